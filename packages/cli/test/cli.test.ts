import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';
import { baton, batonCommand, installedWithout, makeDir, removeDir, start, type Result } from './helpers.js';

const COMMANDS = [
  'migrate',
  'workflows',
  'pause',
  'resume',
  'archive',
  'runs',
  'show',
  'cancel',
  'logs',
  'task',
  'trigger',
  'retry',
  'dashboard',
];

const oneErrorLine = (r: Result, code: number, pattern: RegExp) => {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^baton: /);
  expect(r.stderr).toMatch(pattern);
};

/** Runs a command line under a pseudo-terminal (util-linux `script`), so that stdout is a TTY. */
function inTty(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Result> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return baton(['-qec', [...batonCommand(), ...args].map(quote).join(' '), '/dev/null'], {
    env: { COLUMNS: '200', ...env },
    cwd,
    command: ['script'],
  });
}
const hasScript = existsSync('/usr/bin/script');
if (!hasScript) console.warn('\n!!! SKIPPING the CLI TTY tests: util-linux `script` is not installed.\n');

describe('baton CLI: the command line itself', { timeout: 240_000 }, () => {
  let dir: string;
  let db: string;
  let store: Store;
  let runId: string;

  beforeAll(async () => {
    dir = await makeDir();
    db = join(dir, 'baton.db');
    store = await openSqliteStore({ filename: db });
    const wf = await store.createWorkflow({ name: 'colours', steps: [{ name: 's' }] });
    runId = (await store.createRun({ workflowId: wf.id })).run.id;
    await store.appendLogs(
      ['log', 'info', 'warn', 'danger', 'success', 'error'].map((type) => ({ runId, type: type as 'log', content: `${type} line` })),
    );
  });
  afterAll(async () => {
    await store.close();
    await removeDir(dir);
  });

  it('every command has --help, exit 0; no command prints the help and exits 2', async () => {
    const results = await Promise.all(COMMANDS.map((c) => baton([c, '--help'])));
    results.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: baton ${COMMANDS[i]}`));
    });
    const [none, top, version] = await Promise.all([baton([]), baton(['--help']), baton(['--version'])]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: baton/);
    expect(top.stdout).toMatch(/Exit codes: 0 ok/);
    for (const c of COMMANDS) expect(top.stdout).toContain(`  ${c} `);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('bad input: one line and a non-zero exit, no stack trace unless --debug', async () => {
    const cwd = dir;
    const [unknown, badOption, scheme, badUrl, schemaOnSqlite, noFile, noFolder, unreachable, debug, debugEnv] = await Promise.all([
      baton(['rnus'], { cwd }),
      baton(['runs', '--frobnicate'], { cwd }),
      baton(['--db', 'mysql://x/y', 'runs'], { cwd }),
      baton(['--db', 'postgres://user:hunter2@:5432', 'runs'], { cwd }),
      baton(['--db', db, '--schema', 'x', 'runs'], { cwd }),
      baton(['--db', join(dir, 'missing.db'), 'runs'], { cwd }),
      baton(['--db', `file:${join(dir, 'missing-store')}`, 'runs'], { cwd }),
      baton(['--db', 'postgres://postgres@127.0.0.1:1/test', 'runs'], { cwd }),
      baton(['--db', db, 'show', 'nope', '--debug'], { cwd }),
      baton(['--db', db, 'show', 'nope'], { cwd, env: { BATON_DEBUG: '1' } }),
    ]);
    oneErrorLine(unknown, 2, /unknown command 'rnus'.*Did you mean runs\?/);
    oneErrorLine(badOption, 2, /unknown option '--frobnicate'/);
    oneErrorLine(scheme, 2, /--db scheme not supported: mysql:\/\/x\/y/);
    oneErrorLine(badUrl, 2, /not a valid PostgreSQL URL: postgres:\/\/user:\*\*\*@:5432/);
    expect(badUrl.stderr).not.toContain('hunter2');
    oneErrorLine(schemaOnSqlite, 2, /--schema applies to a postgres:\/\/ store only/);
    oneErrorLine(noFile, 1, /no Baton database at .*missing\.db \(create it with: baton migrate/);
    expect(existsSync(join(dir, 'missing.db'))).toBe(false);
    oneErrorLine(noFolder, 1, /no Baton file store at .*missing-store/);
    expect(existsSync(join(dir, 'missing-store'))).toBe(false);
    oneErrorLine(unreachable, 1, /cannot open the store \(PostgreSQL postgres:\/\/postgres@127\.0\.0\.1:1\/test\): .*ECONNREFUSED/);
    for (const r of [debug, debugEnv]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^baton: run not found: nope\nNotFoundError: run not found: nope\n\s+at /);
    }
  });

  it('a store with pending migrations is refused by every command but migrate', async () => {
    const fresh = join(dir, 'fresh.db');
    expect((await baton(['--db', fresh, 'migrate', '--status'])).code).toBe(0);
    const status = JSON.parse((await baton(['--db', fresh, 'migrate', '--status', '--json'])).stdout) as { name: string }[];
    const names = status.map((m) => m.name);
    expect(names[0]).toBe('001_initial');
    oneErrorLine(
      await baton(['--db', fresh, 'runs']),
      1,
      new RegExp(`${names.length} pending migrations? \\(${names.join(', ')}\\): run baton migrate`),
    );
    expect((await baton(['--db', fresh, 'migrate'])).stdout).toBe(names.map((n) => `applied ${n}\n`).join(''));
    expect((await baton(['--db', fresh, 'runs'])).code).toBe(0);
  });

  it('the default store is .baton/baton.db in the working directory', async () => {
    const cwd = await makeDir();
    try {
      expect((await baton(['migrate'], { cwd })).code).toBe(0);
      expect(existsSync(join(cwd, '.baton', 'baton.db'))).toBe(true);
      expect((await baton(['workflows', '--json'], { cwd })).stdout.trim()).toBe('[]');
    } finally {
      await removeDir(cwd);
    }
  });

  it('log types in Microlight colours when colour is forced; none with NO_COLOR or --no-color', async () => {
    const [forced, noColor, flag, plain] = await Promise.all([
      baton(['--db', db, 'logs', runId], { env: { FORCE_COLOR: '1' } }),
      baton(['--db', db, 'logs', runId], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }),
      baton(['--db', db, 'logs', runId, '--no-color'], { env: { FORCE_COLOR: '1' } }),
      baton(['--db', db, 'logs', runId]),
    ]);
    const line = (r: Result, type: string) => r.stdout.split('\n').find((l) => l.includes(`${type} line`))!;
    expect(line(forced, 'info')).toContain('\x1b[34minfo'); // blue
    expect(line(forced, 'warn')).toContain('\x1b[33mwarn'); // yellow
    expect(line(forced, 'danger')).toContain('\x1b[31mdanger'); // red
    expect(line(forced, 'success')).toContain('\x1b[32msuccess'); // green
    expect(line(forced, 'error')).toContain('\x1b[31merror'); // red
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ESC of an ANSI colour code is what this looks for
    expect(line(forced, 'log')).not.toMatch(/\x1b\[3\dmlog/);
    for (const r of [noColor, flag, plain]) {
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('\x1b[');
      expect(r.stdout.trim().split('\n')).toHaveLength(6);
    }
  });

  it.skipIf(!hasScript)('on a TTY: a table with a header, in colour unless NO_COLOR', async () => {
    const [tty, ttyNoColor] = await Promise.all([
      inTty(['--db', db, 'runs'], {}, dir),
      inTty(['--db', db, 'runs'], { NO_COLOR: '1' }, dir),
    ]);
    expect(tty.code, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(/RUN\s+WORKFLOW\s+STATUS\s+TRIGGER\s+TASKS\s+CREATED\s+DURATION\s+ERROR/);
    expect(tty.stdout).toContain('\x1b[36mpending'); // cyan status
    expect(ttyNoColor.stdout).toMatch(/RUN\s+WORKFLOW\s+STATUS/);
    expect(ttyNoColor.stdout).not.toContain('\x1b[');
    expect(ttyNoColor.stdout).toMatch(new RegExp(`${runId}\\s+colours\\s+pending\\s+manual\\s+0/1`));
  });

  it('dashboard without @baton/dashboard (installed without it): one line saying how to install it, exit 1', async () => {
    const command = installedWithout(dir, '@baton/dashboard');
    // The copy resolves everything else: the same command lists runs.
    expect((await baton(['--db', db, 'runs'], { command, cwd: dir })).code).toBe(0);
    oneErrorLine(
      await baton(['--db', db, 'dashboard'], { command, cwd: dir }),
      1,
      /baton dashboard needs @baton\/dashboard: .*npm install @baton\/dashboard/,
    );
  });

  // @baton/dashboard is a devDependency of @baton/cli: the workspace has it.
  it('dashboard serves @baton/dashboard on the store until SIGTERM', async () => {
    const server = start(['--db', db, 'dashboard', '--port', '0']);
    await server.waitFor((out) => /dashboard on http:\/\/127\.0\.0\.1:\d+\//.test(out));
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(server.stdout())![1]!;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page.toLowerCase()).toContain('<html');
    server.child.kill('SIGTERM');
    expect((await server.done).code).toBe(0);
  });
});
