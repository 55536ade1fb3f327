import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PG_URL } from '@baton/store-pg';
import { pgKit } from '@baton/test-kit';

const CLI_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const REPO_ROOT = resolve(CLI_DIR, '../..');
const TSX = join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs');

/**
 * The real binary as a child process: the built `bin/baton.js` when every
 * package it loads is built from its current sources (CI builds before it
 * tests), else the TypeScript sources through tsx and the `baton-source`
 * condition, so that `pnpm test` in a fresh clone needs no build. The built
 * one starts in a third of the time.
 */
export function batonCommand(cliDir = CLI_DIR): string[] {
  return builtIsFresh()
    ? [process.execPath, join(cliDir, 'bin/baton.js')]
    : [process.execPath, '--conditions=baton-source', '--import', TSX, join(cliDir, 'src/bin.ts')];
}

/**
 * The command of @baton/cli installed in `dir` as npm would install it
 * without one of its packages: its files copied (not linked: Node resolves a
 * linked file from its real place, where the workspace has everything) to
 * `dir/node_modules/@baton/cli`, and every dependency the workspace gave it
 * linked beside them, except `without`.
 */
export function installedWithout(dir: string, without: string): string[] {
  const installed = join(dir, 'node_modules/@baton/cli');
  mkdirSync(installed, { recursive: true });
  for (const entry of ['package.json', 'bin', 'src', 'dist']) {
    if (existsSync(join(CLI_DIR, entry))) cpSync(join(CLI_DIR, entry), join(installed, entry), { recursive: true });
  }
  const deps = join(CLI_DIR, 'node_modules');
  for (const name of readdirSync(deps).flatMap((n) => (n.startsWith('@') ? readdirSync(join(deps, n)).map((m) => `${n}/${m}`) : [n]))) {
    if (name === without) continue;
    mkdirSync(join(installed, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(deps, name), join(installed, 'node_modules', name));
  }
  return batonCommand(installed);
}

const PACKAGES = ['core', 'store-sql', 'store-sqlite', 'store-pg', 'store-file', 'cli'];
let fresh: boolean | undefined;
function builtIsFresh(): boolean {
  fresh ??= PACKAGES.every((name) => {
    const dir = join(REPO_ROOT, 'packages', name);
    const built = join(dir, 'dist/index.js');
    if (!existsSync(built)) return false;
    return newest(join(dir, 'src')) <= statSync(built).mtimeMs;
  });
  return fresh;
}

function newest(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return max;
}

/** The environment of a user's shell without colour settings of the test runner's own. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of [
    'NO_COLOR',
    'FORCE_COLOR',
    'BATON_DB',
    'BATON_SCHEMA',
    'BATON_DEBUG',
    'NODE_OPTIONS',
    'VITEST',
    'VITEST_WORKER_ID',
    'VITEST_POOL_ID',
  ])
    delete env[key];
  return { ...env, ...extra };
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stdout satisfies `match` (rejects if the process exits first). */
  waitFor(match: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  done: Promise<Result>;
}

export function start(
  args: string[],
  { env = {}, cwd = REPO_ROOT, command = batonCommand() }: { env?: NodeJS.ProcessEnv; cwd?: string; command?: string[] } = {},
): Running {
  const [bin, ...pre] = command;
  const child = spawn(bin!, [...pre, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout!.on('data', (d) => {
    stdout += d;
    for (const w of watchers) w();
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: (match, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (match(stdout)) {
            watchers.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting; stdout: ${stdout}\nstderr: ${stderr}`)), timeoutMs);
        watchers.add(check);
        void done.then(() => {
          clearTimeout(timer);
          if (match(stdout)) resolve();
          else reject(new Error(`exited (${child.exitCode}) before the expected output; stdout: ${stdout}\nstderr: ${stderr}`));
        });
        check();
      }),
    done,
  };
}

/** Runs the binary to its end. */
export function baton(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; command?: string[] } = {}): Promise<Result> {
  return start(args, options).done;
}

export const makeDir = () => mkdtemp(join(tmpdir(), 'baton-cli-'));
export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });

// PostgreSQL: the shared test kit (reachability with its loud skip, schema clean-up) on store-pg's default server.
const pg = pgKit(process.env.BATON_PG_URL ?? DEFAULT_PG_URL);
export const PG_URL = pg.url;
export const { dropSchemas } = pg;
export const pgAvailable = () => pg.available('the CLI PostgreSQL tests');
