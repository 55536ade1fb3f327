import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The workspace root: tsx and the `baton-source` condition resolve from there (src/ and dist/ sit at the same depth). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A TypeScript child process run from the repo root, its stdout read as lines. */
export interface Child {
  process: ChildProcess;
  /** Resolves with the first stdout line that satisfies `match`; rejects (with its stderr) if the child exits first. */
  line(match: (line: string) => boolean): Promise<string>;
  /** Resolves once the child prints the line `ready` (every worker fixture does when it can take work). */
  ready(): Promise<void>;
  lines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs a TypeScript file in a child Node on the workspace's sources
 * (`--conditions=baton-source --import tsx`), as a second process on the same store would.
 */
export function spawnTs(script: string, args: string[]): Child {
  const child = spawn(process.execPath, ['--conditions=baton-source', '--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  const line = (match: (line: string) => boolean): Promise<string> => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      waiters.push({ match, resolve: res });
      exited.then(({ code, signal }) => rej(new Error(`child exited (${code ?? signal}) before the expected line; stderr: ${stderr}`)));
    });
  };
  return { process: child, lines, stderr: () => stderr, exited, line, ready: async () => void (await line((l) => l === 'ready')) };
}
