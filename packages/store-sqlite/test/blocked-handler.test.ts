import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createBaton } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('sqlite store: handlers that block the event loop', () => {
  it('a handler blocking at its start never does so inside a write transaction (another process could not write)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-block-'));
    dirs.push(dir);
    const filename = join(dir, 'baton.db');
    const store = await openSqliteStore({ filename });
    // A second connection, as another process holds: it gets the write lock only when nobody holds it.
    const other = new Database(filename, { timeout: 0 });
    let lockedAtStart = 0;
    const baton = createBaton({ store, concurrency: 8, pollIntervalMs: 20, logger: { warn() {}, error() {} } });
    await baton.defineWorkflow(
      { name: 'cpu', steps: [{ name: 's', taskCount: 300 }] },
      {
        s: async (ctx) => {
          // Synchronously at the handler's start, where CPU-bound work would block the event loop.
          try {
            other.exec('begin immediate');
            other.exec('rollback');
          } catch {
            lockedAtStart++;
          }
          // Logs keep the store writing in batches while handlers start (before the fix: 148 of 300 starts saw the lock held).
          ctx.info('started');
          return 'ok';
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('cpu');
    try {
      expect((await baton.waitForRun(run.id, { timeoutMs: 30_000 })).status).toBe('success');
    } finally {
      await baton.stop();
      other.close();
      await store.close();
    }
    expect(lockedAtStart).toBe(0);
  });
});
