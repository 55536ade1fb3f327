import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const example = fileURLToPath(new URL('..', import.meta.url));
const root = join(example, '..', '..');
// tsx by path: the scratch working directory has no node_modules to find it in.
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const node = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  // A process that never exits (a forgotten stop/close) fails here on the timeout.
  run(process.execPath, ['--conditions=baton-source', '--import', tsx, ...args], { cwd, env: { ...process.env, ...env }, timeout: 60_000 });

const tmp = mkdtempSync(join(tmpdir(), 'baton-quickstart-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the quick start', () => {
  it('the demo exits on its own and writes its database where the READMEs say, whatever the working directory', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const stated = /stores everything in `([^`]+)`/.exec(readme)?.[1];
    expect(stated).toBe('examples/quickstart/.baton/baton.db');
    const { stdout } = await node([join(example, 'src/main.ts')], tmp, { DEMO_RUNS: '1', DEMO_FANOUT: '4' });
    expect(stdout).toContain('all runs succeeded');
    expect(stdout).toContain(`on SQLite at ${join(root, stated!)}`);
    expect(existsSync(join(root, stated!))).toBe(true);
    expect(existsSync(join(tmp, '.baton'))).toBe(false);
  });

  it("the root README's code snippet runs to its end and the process exits", async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toContain('createBaton');
    // Inside the example so that its imports resolve; run from a scratch directory so its default database lands there.
    const file = join(example, `.readme-snippet-${process.pid}.mts`);
    writeFileSync(file, snippet!);
    try {
      const { stdout } = await node([file], tmp);
      expect(stdout).toMatch(/status: 'success'/);
      expect(existsSync(join(tmp, '.baton/baton.db'))).toBe(true);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('the repository is MIT licensed, every package says so, and every package with tests has a test script', () => {
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    const dirs = ['.', 'bench', ...['packages', 'examples'].flatMap((d) => readdirSync(join(root, d)).map((n) => `${d}/${n}`))];
    const packages = dirs.filter((d) => existsSync(join(root, d, 'package.json')));
    expect(packages.length).toBeGreaterThan(10);
    for (const dir of packages) {
      const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
      expect(pkg.license, dir).toBe('MIT');
      if (dir !== '.' && existsSync(join(root, dir, 'test'))) expect(pkg.scripts?.test, dir).toBe('vitest run');
    }
  });
});
