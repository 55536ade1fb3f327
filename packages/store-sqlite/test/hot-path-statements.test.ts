import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Lease, Store } from '@baton/core';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/index.js';

/**
 * Set-based hot path: a batch costs the same statements whether it spans 5
 * single-task runs or 600. Statements are counted as executions of prepared
 * statements (better-sqlite3's `run`/`all`/`get`/`iterate`, which every query
 * and BEGIN/COMMIT goes through). 600 is past every chunk size the store has
 * had (the fenced write went 200 leases a statement: 600 endings were three).
 */
describe('sqlite store: hot-path statements per batch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-hot-statements-'));
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
  probe.close();
  const methods = ['run', 'all', 'get', 'iterate'] as const;
  const originals = methods.map((m) => statementProto[m]!);
  let executed = 0;
  methods.forEach((m, i) => {
    statementProto[m] = function (this: unknown, ...args: unknown[]) {
      executed++;
      return originals[i]!.apply(this, args);
    };
  });
  afterAll(() => {
    methods.forEach((m, i) => {
      statementProto[m] = originals[i]!;
    });
    rmSync(dir, { recursive: true, force: true });
  });

  async function counted<T>(fn: () => Promise<T>): Promise<[T, number]> {
    const before = executed;
    const value = await fn();
    return [value, executed - before];
  }

  /** Statements each hot-path operation costs for a batch of `n` tasks, each its own single-task run. */
  async function costs(store: Store, workflowId: string, n: number) {
    await store.createRuns(Array.from({ length: n }, () => ({ workflowId })));
    const claimArgs = { workerId: 'w', limit: n, leaseMs: 60_000 };
    const [claimed, claim] = await counted(() => store.claimTasks(claimArgs));
    expect(claimed).toHaveLength(n);
    const leases: Lease[] = claimed.map((c) => ({ taskId: c.task.id, leaseId: c.task.leaseId! }));
    const [marks, mark] = await counted(() => store.markRunning(leases));
    expect(marks.filter((m) => m.held)).toHaveLength(n);
    const [states, heartbeat] = await counted(() => store.heartbeat(leases, 60_000));
    expect(states).toHaveLength(n);
    const [result, finish] = await counted(() =>
      store.finishTasks(leases.map((l) => ({ ...l, status: 'success' as const, output: { ok: true } }))),
    );
    expect(result.finishedRuns).toHaveLength(n);
    await store.createRuns(Array.from({ length: n }, () => ({ workflowId })));
    const again = await store.claimTasks({ ...claimArgs, running: true, deferRunStart: true });
    const [released, release] = await counted(() =>
      store.releaseTasks(again.map((c) => ({ taskId: c.task.id, leaseId: c.task.leaseId! }))),
    );
    expect(released).toBe(n);
    return { claim, mark, heartbeat, finish, release };
  }

  it('claim, mark running, heartbeat, finish and release cost as many statements for 600 runs as for 5', async () => {
    const store = await openSqliteStore({ filename: join(dir, 'baton.db') });
    const wf = await store.createWorkflow({ name: 'single', steps: [{ name: 'only' }] });
    // The first claim also learns, once, whether any cluster-wide limit was ever planned.
    await costs(store, wf.id, 1);
    const small = await costs(store, wf.id, 5);
    const large = await costs(store, wf.id, 600);
    expect(large).toEqual(small);
    // And each is a handful: a per-run loop would be hundreds.
    for (const n of Object.values(small)) expect(n).toBeLessThanOrEqual(12);
    await store.close();
  });
});
