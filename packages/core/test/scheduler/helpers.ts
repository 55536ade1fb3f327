import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBaton, type Baton, type BatonOptions, type Store } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';
import { afterEach } from 'vitest';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A fresh SQLite file in a temp folder, closed and removed after the test. */
export async function tempStore(): Promise<{ store: Store; filename: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-sched-'));
  const filename = join(dir, 'baton.db');
  const store = await openSqliteStore({ filename });
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, filename };
}

/** A Baton with test-friendly timings, stopped after the test. */
export function testBaton(store: Store, options: Partial<BatonOptions> = {}): Baton {
  const baton = createBaton({ store, leaseMs: 2000, pollIntervalMs: 50, recoverIntervalMs: 100, shutdownGraceMs: 2000, logger: quiet, ...options });
  cleanups.unshift(() => baton.stop());
  return baton;
}

export const quiet = { warn: () => {}, error: () => {} };

export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export async function allTasks(store: Store, runId: string) {
  const out = [];
  let cursor: string | null = null;
  do {
    const page = await store.listTasks({ runId, limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
