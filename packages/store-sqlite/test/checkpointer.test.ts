import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '@baton/store-sqlite';
import { spawnTs } from '@baton/test-kit';
import { startCheckpointer } from '../src/checkpointer.js';

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-ckpt-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs in the database file alone, as a copy without its WAL reads them: what has been checkpointed. */
function runsInFileAlone(dir: string, filename: string): number {
  const copy = join(dir, `copy-${Math.random().toString(36).slice(2)}.db`);
  copyFileSync(filename, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return (db.prepare('select count(*) as n from baton_runs').get() as { n: number }).n;
  } catch {
    return -1; // not there yet (the schema still in the WAL), or a copy taken mid-checkpoint
  } finally {
    db.close();
  }
}

describe('store-sqlite: the WAL is checkpointed by a thread of its own', () => {
  it('writes reach the database file within moments, far below SQLite’s own 1,000-page checkpoint', async () => {
    const dir = freshDir();
    const filename = join(dir, 'ckpt.db');
    const store = await openSqliteStore({ filename });
    const wf = await store.createWorkflow({ name: 'few', steps: [{ name: 's' }] });
    // A few pages of WAL: SQLite alone would leave them there until 1,000 pages had gathered.
    await store.createRuns(Array.from({ length: 20 }, () => ({ workflowId: wf.id })));
    const deadline = Date.now() + 5000;
    while (runsInFileAlone(dir, filename) < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(runsInFileAlone(dir, filename)).toBe(20);
    // Closing: the thread's connection closes last, checkpoints the rest and removes the WAL.
    await store.createRuns(Array.from({ length: 5 }, () => ({ workflowId: wf.id })));
    await store.close();
    expect(existsSync(`${filename}-wal`)).toBe(false);
    expect(runsInFileAlone(dir, filename)).toBe(25);
  });

  it('a thread that stops hands checkpoints back to the store’s connection and says so once, without an unhandled error', async () => {
    const dir = freshDir();
    const filename = join(dir, 'main.db');
    const database = new Database(filename);
    database.pragma('journal_mode = WAL');
    const warnings: string[] = [];
    // A file the thread cannot open: it fails at its start, as it would on any later error.
    const checkpointer = startCheckpointer(database, join(dir, 'missing', 'nothing.db'), (m) => warnings.push(m));
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(4000);
    const deadline = Date.now() + 5000;
    while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/checkpoint thread stopped \(.*(unable to open|directory does not exist|no such file).*\)/i);
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await checkpointer.stop();
    expect(warnings).toHaveLength(1);
    database.close();
  });

  it('a process that never closes its store still exits: the thread does not keep it alive', async () => {
    const dir = freshDir();
    const child = spawnTs(fileURLToPath(new URL('./fixtures/forgets-close.ts', import.meta.url)), [join(dir, 'forgotten.db')]);
    await child.line((l) => l === 'written');
    const exited = await Promise.race([child.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
    if (exited === 'still running') child.process.kill('SIGKILL');
    expect(exited).toEqual({ code: 0, signal: null });
  });
});
