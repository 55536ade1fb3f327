import { createBaton, type Baton, type BatonOptions, type Executor, type Store, type Task } from '@baton/core';
import { afterEach } from 'vitest';
import { tempSqliteStore } from './sqlite.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/**
 * The real scheduler on a fresh SQLite file (or on `store`, to add a second
 * worker), with test-friendly timings; stopped and removed after the test.
 */
export async function startBaton(executors: Executor[], options: Partial<BatonOptions> = {}): Promise<{ baton: Baton; store: Store }> {
  let store = options.store;
  if (!store) {
    const temp = await tempSqliteStore();
    store = temp.store;
    cleanups.push(temp.dispose);
  }
  const baton = createBaton({
    store,
    executors,
    leaseMs: 3000,
    pollIntervalMs: 50,
    shutdownGraceMs: 1000,
    logger: { warn: () => {}, error: () => {} },
    ...options,
  });
  cleanups.push(() => baton.stop());
  await baton.start();
  return { baton, store };
}

export async function tasksOf(store: Store, runId: string): Promise<Task[]> {
  return (await store.listTasks({ runId, limit: 1000 })).items;
}

export async function logsOf(store: Store, runId: string): Promise<string[]> {
  return (await store.listLogs(runId, { limit: 1000 })).items.map((l) => `${l.type}: ${l.content}`);
}
