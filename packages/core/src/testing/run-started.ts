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

    test('a claim that defers run starts leases tasks running, leaves their runs pending and says runPending; markRunning starts each run once and leaves the tasks as they were', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'fan', taskCount: 3 }] });
      const runs = await store.createRuns(Array.from({ length: 2 }, () => ({ workflowId: wf.id })));
      const claimed = await claimRunningAll(store, 'w', 4, { deferRunStart: true });
      expect(claimed).toHaveLength(6);
      for (const c of claimed) {
        expect(c).toMatchObject({ runStarted: false, runPending: true, task: { status: 'running', attempt: 1 } });
        expect(c.task.startedAt).toBeInstanceOf(Date);
      }
      for (const { run } of runs) expect(await store.getRun(run.id)).toMatchObject({ status: 'pending', startedAt: null });
      const before = await Promise.all(claimed.map((c) => store.getTask(c.task.id)));

      // A wrong lease is refused and starts nothing, though the task is running.
      expect(await store.markRunning([{ taskId: claimed[0]!.task.id, leaseId: 'not-the-lease' }])).toEqual([
        { held: false, runStarted: false },
      ]);
      expect((await store.getRun(runs[0]!.run.id)).status).toBe('pending');

      const outcomes = await store.markRunning(claimed.map(leaseOf));
      expect(outcomes.every((o) => o.held)).toBe(true);
      expect(startsPerRun(claimed.map((c, i) => ({ ...c, runStarted: outcomes[i]!.runStarted })))).toEqual(
        new Map(runs.map(({ run }) => [run.id, 1])),
      );
      for (const { run } of runs) {
        const earliest = Math.min(...claimed.filter((c) => c.run.id === run.id).map((c) => c.task.startedAt!.getTime()));
        expect(await store.getRun(run.id)).toMatchObject({ status: 'running', startedAt: new Date(earliest) });
      }
      // Only the runs were written: each task reads as the claim left it (start, name, updatedAt).
      expect(await Promise.all(claimed.map((c) => store.getTask(c.task.id)))).toEqual(before);
      // Marked again: the runs are running already.
      expect((await store.markRunning(claimed.map(leaseOf))).some((o) => o.runStarted)).toBe(false);
    });

    test('endings of tasks whose claim deferred their run start start those runs: FinishResult.startedRuns names each once, in the write that ends them', async () => {
      const store = await open();
      const single = await defineWorkflow(store, { retry: { maxAttempts: 2 }, steps: [{ name: 'only' }] });
      const fan = await defineWorkflow(store, { steps: [{ name: 'fan', taskCount: 3 }] });
      const [done, retried] = await store.createRuns([{ workflowId: single.id }, { workflowId: single.id }]);
      const { run: wide } = await store.createRun({ workflowId: fan.id });
      const claimed = await claimRunningAll(store, 'w', 10, { deferRunStart: true });
      expect(claimed).toHaveLength(5);
      const of = (runId: string) => claimed.filter((c) => c.run.id === runId);
      const [fan0, fan1, fan2] = of(wide.id);

      const first = await store.finishTasks([
        { ...leaseOf(of(done!.run.id)[0]!), status: 'success', output: 1 },
        // A retry starts its run too (it ran), and leaves it running.
        { ...leaseOf(of(retried!.run.id)[0]!), status: 'failed', error: 'flaky', retryAt: new Date(Date.now() + 60_000) },
        { ...leaseOf(fan0!), status: 'success', output: 0 },
      ]);
      expect([...first.startedRuns].sort()).toEqual([done!.run.id, retried!.run.id, wide.id].sort());
      expect(first.finishedRuns).toEqual([{ runId: done!.run.id, status: 'success' }]);
      const taskStart = of(done!.run.id)[0]!.task.startedAt!;
      expect(await store.getRun(done!.run.id)).toMatchObject({ status: 'success', startedAt: taskStart });
      expect((await store.getRun(retried!.run.id)).status).toBe('running');
      expect(await store.getRun(wide.id)).toMatchObject({ status: 'running', startedAt: fan0!.task.startedAt });

      // The fan-out's other endings find it running: no second start.
      const second = await store.finishTasks([{ ...leaseOf(fan1!), status: 'success', output: 1 }]);
      expect(second.startedRuns).toEqual([]);
      await store.markRunning([leaseOf(fan2!)]);
      const third = await store.finishTasks([{ ...leaseOf(fan2!), status: 'success', output: 2 }]);
      expect(third).toMatchObject({ startedRuns: [], finishedRuns: [{ runId: wide.id, status: 'success' }] });
    });

    test('a claim that starts runs leaves nothing for the endings to start; a later claim of a started run says runPending false', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'fan', taskCount: 3 }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const [opening] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000, running: true });
      expect(opening).toMatchObject({ runStarted: true, runPending: false });
      expect((await store.finishTasks([{ ...leaseOf(opening!), status: 'success', output: null }])).startedRuns).toEqual([]);
      const [deferred] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000, running: true, deferRunStart: true });
      expect(deferred).toMatchObject({ runStarted: false, runPending: false });
      // Without `running`, tasks are dispatched and the run waits for their mark (deferRunStart changes nothing).
      const { run: other } = await store.createRun({ workflowId: wf.id });
      const dispatched = await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 60_000, deferRunStart: true });
      expect(dispatched.filter((c) => c.run.id === other.id).map((c) => [c.task.status, c.runStarted, c.runPending])).toEqual([
        ['dispatched', false, true],
        ['dispatched', false, true],
        ['dispatched', false, true],
      ]);
      expect((await store.getRun(run.id)).status).toBe('running');
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
