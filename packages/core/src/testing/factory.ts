import { afterEach, expect } from 'vitest';
import type { ClaimedTask, Store } from '../store.js';
import type { WorkflowDefinition } from '../models.js';

/** How a store package plugs into the conformance suite. */
export interface StoreFactory {
  /** Shown in test names: 'sqlite', 'pg', 'file'. */
  name: string;
  /** A fresh, empty, migrated store of its own (own file / schema / folder). */
  create(): Promise<Store>;
  /** A second, independent handle on the same data as `store` (same file / schema / folder). */
  openAgain(store: Store): Promise<Store>;
  /** Skips are data with a reason; tests are named 'Suite > case'. */
  skip?: { reason: string; tests: string[] }[];
  /**
   * Runs the bulk case creates in one `createRuns` (default 6,000, two tasks
   * each: past the SQL stores' 5,000-row insert parts). A store built for a
   * few thousand tasks says fewer: the file store writes a file a record.
   */
  bulkRuns?: number;
}

/** Per-test helpers: stores opened through `open` are closed after each test. */
export function harness(factory: StoreFactory) {
  const opened: Store[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0).reverse()) await store.close().catch(() => {});
  });
  return {
    async open(): Promise<Store> {
      const store = await factory.create();
      opened.push(store);
      return store;
    },
    async again(store: Store): Promise<Store> {
      const other = await factory.openAgain(store);
      opened.push(other);
      return other;
    },
  };
}

export function skipped(factory: StoreFactory, suite: string, name: string): string | undefined {
  return factory.skip?.find((s) => s.tests.includes(`${suite} > ${name}`))?.reason;
}

let counter = 0;
/** Defines a workflow with a unique name; overrides replace the defaults. */
export async function defineWorkflow(store: Store, overrides: Partial<WorkflowDefinition> = {}) {
  return store.createWorkflow({
    name: `wf-${++counter}-${Math.random().toString(36).slice(2, 8)}`,
    steps: [{ name: 'only' }],
    ...overrides,
  });
}

/** The conformance suite's usual shape: step `a` fanned out to `fanOut` tasks, then `b`, which depends on it. */
export function defineFanIn(store: Store, fanOut: number) {
  return defineWorkflow(store, {
    steps: [
      { name: 'a', taskCount: fanOut },
      { name: 'b', dependsOn: ['a'] },
    ],
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Claims until nothing is left; returns every claimed task. */
export async function claimAll(store: Store, workerId = 'w', limit = 50, leaseMs = 60_000) {
  const all = [];
  for (;;) {
    const batch = await store.claimTasks({ workerId, limit, leaseMs });
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

export const leaseOf = (c: { task: { id: string; leaseId: string | null } }) => ({ taskId: c.task.id, leaseId: c.task.leaseId! });

/**
 * What a claim with `running: true` must have written: each task leased
 * running and started at its claim (no earlier than `before`), stored as
 * returned, and the run started with its first task. Returns the run.
 */
export async function expectStartedByClaim(store: Store, claimed: ClaimedTask[], runId: string, before: number) {
  for (const c of claimed) {
    expect(c.task).toMatchObject({ status: 'running', attempt: 1, leaseOwner: 'w' });
    expect(c.task.startedAt).toEqual(c.task.dispatchedAt);
    expect(c.task.startedAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(await store.getTask(c.task.id)).toEqual(c.task);
  }
  const started = await store.getRun(runId);
  expect(started.status).toBe('running');
  expect(started.startedAt).toEqual(claimed[0]!.task.startedAt);
  return started;
}
