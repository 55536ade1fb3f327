import { expect } from 'vitest';
import type { ClaimOptions, ClaimedTask, Store } from '../store.js';
import { claimAll, defineWorkflow, leaseOf, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

/** Claims with `running` (as the scheduler does) until nothing is left. */
async function claimRunningAll(store: Store, workerId: string, limit: number, extra: Partial<ClaimOptions> = {}): Promise<ClaimedTask[]> {
  const all: ClaimedTask[] = [];
  for (;;) {
    const batch = await store.claimTasks({ workerId, limit, leaseMs: 60_000, running: true, ...extra });
    if (batch.length === 0) return all;
    all.push(...batch);
    // Let the other claimer in (a synchronous SQLite driver would otherwise finish the whole queue first).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** How many claim answers said `runStarted`, per run. */
function startsPerRun(claimed: ClaimedTask[]): Map<string, number> {
  const starts = new Map<string, number>();
  for (const c of claimed) if (c.runStarted) starts.set(c.run.id, (starts.get(c.run.id) ?? 0) + 1);
  return starts;
}

/**
 * `ClaimedTask.runStarted`: the store says which claim moved a run from
 * pending to running, so the scheduler emits `run:started` once per run
 * however many workers claim its tasks.
 */
export function runStartedCases(factory: StoreFactory): void {
  suite(factory, 'run started', (test, { open, again }) => {
    test('runs whose first step fans out, claimed by two handles in parallel, each start once: exactly one claim answer says runStarted', async () => {
      const store = await open();
      const other = await again(store);
      const wf = await defineWorkflow(store, {
        steps: [{ name: 'fan', taskCount: 30 }, { name: 'side' }, { name: 'after', dependsOn: ['fan'] }],
      });
      const runs = await store.createRuns(Array.from({ length: 6 }, () => ({ workflowId: wf.id })));
      const [a, b] = await Promise.all([claimRunningAll(store, 'a', 4), claimRunningAll(other, 'b', 4)]);
      // Both claimed: the case only means something when two claimers took tasks of the same runs.
      expect(a.length).toBeGreaterThan(0);
      expect(b.length).toBeGreaterThan(0);
      expect(a.length + b.length).toBe(6 * 31);
      expect(startsPerRun([...a, ...b])).toEqual(new Map(runs.map(({ run }) => [run.id, 1])));
      for (const { run } of runs) expect((await store.getRun(run.id)).status).toBe('running');
    });

    test('in one answer, a run started says so on one task only; a run already running says it on none', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 5 }] });
      const { run: first } = await store.createRun({ workflowId: wf.id });
      const opening = await store.claimTasks({ workerId: 'w', limit: 2, leaseMs: 60_000, running: true });
      expect(opening.map((c) => c.runStarted)).toEqual([true, false]);
      const { run: second } = await store.createRun({ workflowId: wf.id });
      const mixed = await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 60_000, running: true });
      expect(mixed).toHaveLength(8);
      expect(startsPerRun(mixed)).toEqual(new Map([[second.id, 1]]));
      expect(mixed.filter((c) => c.run.id === first.id).every((c) => !c.runStarted)).toBe(true);
    });

    test('a task claimed again after a retry, a release or a lease recovery does not say runStarted', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { retry: { maxAttempts: 5 }, steps: [{ name: 's' }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const claim = async () => {
        const claimed = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000, running: true });
        expect(claimed).toHaveLength(1);
        expect(claimed[0]!.run.id).toBe(run.id);
        return claimed[0]!;
      };
      const first = await claim();
      expect(first.runStarted).toBe(true);
      // A failed attempt with a retry due at once.
      await store.finishTasks([{ ...leaseOf(first), status: 'failed', error: 'flaky', retryAt: new Date(Date.now() - 1) }]);
      const retried = await claim();
      expect(retried.task.attempt).toBe(2);
      expect(retried.runStarted).toBe(false);
      // Released (a worker stopping): the attempt is not charged, yet the run is not started again.
      expect(await store.releaseTasks([leaseOf(retried)])).toBe(1);
      const released = await claim();
      expect(released.task.attempt).toBe(2);
      expect(released.runStarted).toBe(false);
      // Its lease expires and is taken back.
      expect(await store.recoverExpiredLeases(new Date(Date.now() + 120_000))).toEqual([
        { taskId: released.task.id, runId: run.id, status: 'pending' },
      ]);
      const recovered = await claim();
      expect(recovered.task.attempt).toBe(3);
      expect(recovered.runStarted).toBe(false);
    });

    test('a claim without running starts no run and never says runStarted; a later running claim of a run already marked running does not either', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 2 }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const [dispatched] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      expect(dispatched!.runStarted).toBe(false);
      expect((await store.getRun(run.id)).status).toBe('pending');
      await store.markRunning([leaseOf(dispatched!)]);
      expect((await store.getRun(run.id)).status).toBe('running');
      const [next] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000, running: true });
      expect(next!.runStarted).toBe(false);
    });

    test('marks of dispatched tasks (a claim without running), written by two handles in parallel, start each run once: exactly one mark says runStarted', async () => {
      const store = await open();
      const other = await again(store);
      const wf = await defineWorkflow(store, { steps: [{ name: 'fan', taskCount: 20 }] });
      const runs = await store.createRuns(Array.from({ length: 4 }, () => ({ workflowId: wf.id })));
      const claimed = await claimAll(store);
      expect(claimed.every((c) => !c.runStarted)).toBe(true);
      // Interleaved: each handle marks every other task, in batches of 5, both at once.
      const mark = async (handle: Store, mine: ClaimedTask[]) => {
        const outcomes = [];
        for (let i = 0; i < mine.length; i += 5) {
          outcomes.push(...(await handle.markRunning(mine.slice(i, i + 5).map(leaseOf))));
          await new Promise((resolve) => setImmediate(resolve));
        }
        return outcomes.map((o, i) => ({ ...o, runId: mine[i]!.run.id }));
      };
      const [a, b] = await Promise.all([
        mark(
          store,
          claimed.filter((_, i) => i % 2 === 0),
        ),
        mark(
          other,
          claimed.filter((_, i) => i % 2 === 1),
        ),
      ]);
      const outcomes = [...a, ...b];
      expect(outcomes.every((o) => o.held)).toBe(true);
      const starts = new Map<string, number>();
      for (const o of outcomes) if (o.runStarted) starts.set(o.runId, (starts.get(o.runId) ?? 0) + 1);
      expect(starts).toEqual(new Map(runs.map(({ run }) => [run.id, 1])));
      // Marked again (an executor naming its execution): the run is running already.
      expect(await store.markRunning([{ ...leaseOf(claimed[0]!), executionName: 'pid:1' }])).toEqual([{ held: true, runStarted: false }]);
    });

    test('a claim that takes limited and unlimited tasks of one run answers runStarted once', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, {
        steps: [
          { name: 'keyed', taskCount: 2, concurrency: { key: 'k', limit: 5 } },
          { name: 'free', taskCount: 2 },
        ],
      });
      const { run } = await store.createRun({ workflowId: wf.id });
      const claimed = await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 60_000, running: true });
      expect(claimed).toHaveLength(4);
      expect(new Set(claimed.map((c) => c.task.stepName))).toEqual(new Set(['keyed', 'free']));
      expect(startsPerRun(claimed)).toEqual(new Map([[run.id, 1]]));
    });
  });
}
