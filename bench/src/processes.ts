import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const workerScript = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const benchDir = fileURLToPath(new URL('../', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  /** Resolves with the peak RSS the worker reported on exit. */
  exited: Promise<number>;
}

export function startWorkerProcess(kind: 'pg' | 'sqlite', location: string, concurrency: number, untilRun?: string): WorkerProcess {
  // The parent's own flags: built packages for `pnpm bench`, sources (`--conditions=baton-source`) for its test.
  const args = [...process.execArgv, workerScript, kind, location, String(concurrency), ...(untilRun ? [untilRun] : [])];
  const child = spawn(process.execPath, args, { cwd: benchDir, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on('data', (d) => {
    out += d;
    if (out.includes('ready')) onReady();
  });
  const exited = new Promise<number>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(Number(/maxrss (\d+)/.exec(out)?.[1] ?? Number.NaN)) : reject(new Error(`bench worker exited with ${code}`)),
    ),
  );
  return { child, ready, exited };
}
