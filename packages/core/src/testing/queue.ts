import { expect } from 'vitest';
import { claimAll, defineWorkflow, leaseOf, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

export function queueCases(factory: StoreFactory): void {
  suite(factory, 'claim', (test, { open, again }) => {
    test('claims due pending tasks by priority, then runAt, then id, leased with their workflow and run inputs', async () => {
      const store = await open();
      const low = await defineWorkflow(store, { priority: 0, steps: [{ name: 's', taskCount: 2 }] });
      const high = await defineWorkflow(store, { priority: 10, steps: [{ name: 's' }] });
      const lowRun = (await store.createRun({ workflowId: low.id, inputs: { n: 1 } })).run;
      const highRun = (await store.createRun({ workflowId: high.id, inputs: { n: 2 } })).run;
      await store.createRun({ workflowId: low.id, runAt: new Date(Date.now() + 60_000) });
      const before = Date.now();
      const claimed = await store.claimTasks({ workerId: 'worker-1', limit: 10, leaseMs: 30_000 });
      expect(claimed.map((c) => c.task.runId)).toEqual([highRun.id, lowRun.id, lowRun.id]);
      expect(claimed.map((c) => c.task.taskIndex)).toEqual([0, 0, 1]);
      const first = claimed[0]!;
      expect(first.task).toMatchObject({ status: 'dispatched', attempt: 1, leaseOwner: 'worker-1' });
      expect(first.task.leaseId).toBeTruthy();
      expect(first.task.leaseExpiresAt!.getTime()).toBeGreaterThanOrEqual(before + 30_000 - 5);
      expect(first.task.dispatchedAt).not.toBeNull();
      expect(first.workflow).toMatchObject({ id: high.id, name: high.name, priority: 10 });
      expect(first.run).toMatchObject({ id: highRun.id, inputs: { n: 2 }, triggeredBy: 'manual' });
      expect(new Set(claimed.map((c) => c.task.leaseId)).size).toBeGreaterThanOrEqual(1);
      // The future run is not due yet; nothing else is pending.
      expect(await store.claimTasks({ workerId: 'worker-1', limit: 10, leaseMs: 30_000 })).toEqual([]);
      expect((await store.getTask(first.task.id)).status).toBe('dispatched');
    });

    // A store may fill in what the claim wrote rather than read it back (PostgreSQL does): what
    // it hands out must still be, field for field, what it holds, for every kind of claim.
    test('a claimed task is the task as stored, field for field: dispatched, running, a retry, under a cluster-wide limit', async () => {
      const store = await open();
      const plain = await defineWorkflow(store, { steps: [{ name: 's', params: { p: 1 } }] });
      const limited = await defineWorkflow(store, { steps: [{ name: 's', concurrency: { key: 'k', limit: 2 } }] });
      const sameAsStored = async (claimed: Awaited<ReturnType<typeof store.claimTasks>>) => {
        expect(claimed).toHaveLength(1);
        expect(claimed[0]!.task).toEqual(await store.getTask(claimed[0]!.task.id));
      };
      await store.createRun({ workflowId: plain.id });
      const dispatched = await store.claimTasks({ workerId: 'w-1', limit: 1, leaseMs: 30_000, workflowIds: [plain.id] });
      await sameAsStored(dispatched);
      expect(dispatched[0]!.task.status).toBe('dispatched');
      await store.finishTasks([{ ...leaseOf(dispatched[0]!), status: 'failed', error: 'flaky', retryAt: new Date(Date.now() - 1) }]);
      const retried = await store.claimTasks({ workerId: 'w-2', limit: 1, leaseMs: 45_000, running: true, workflowIds: [plain.id] });
      await sameAsStored(retried);
      expect(retried[0]!.task).toMatchObject({ status: 'running', attempt: 2, error: 'flaky', leaseOwner: 'w-2' });
      await store.createRun({ workflowId: plain.id });
      await sameAsStored(await store.claimTasks({ workerId: 'w-3', limit: 1, leaseMs: 10_000, running: true, deferRunStart: true }));
      await store.createRun({ workflowId: limited.id });
      const keyed = await store.claimTasks({ workerId: 'w-4', limit: 1, leaseMs: 20_000, running: true, workflowIds: [limited.id] });
      await sameAsStored(keyed);
      expect(keyed[0]!.task.concurrencyLimit).toEqual({ key: 'k', limit: 2 });
    });

    test('respects the limit and the workflow filters, and skips paused workflows until resumed', async () => {
      const store = await open();
      const a = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 3 }] });
      const b = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 3 }] });
      await store.createRun({ workflowId: a.id });
      await store.createRun({ workflowId: b.id });
      expect(await store.claimTasks({ workerId: 'w', limit: 2, leaseMs: 1000, workflowIds: [b.id] })).toHaveLength(2);
      const notB = await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 1000, excludeWorkflowIds: [b.id] });
      expect(notB.map((c) => c.workflow.id)).toEqual([a.id, a.id, a.id]);
      await store.updateWorkflow(b.id, { status: 'paused' });
      expect(await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 1000 })).toEqual([]);
      await store.updateWorkflow(b.id, { status: 'active' });
      expect(await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 1000 })).toHaveLength(1);
    });

    test('concurrent claims on one handle never share a task', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 200 }] });
      await store.createRun({ workflowId: wf.id });
      const batches = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.claimTasks({ workerId: `w${i}`, limit: 15, leaseMs: 60_000 })),
      );
      const ids = batches.flat().map((c) => c.task.id);
      expect(ids).toHaveLength(200);
      expect(new Set(ids).size).toBe(200);
    });

    test('two handles on the same data claiming in parallel never share a task', async () => {
      const store = await open();
      const other = await again(store);
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 200 }] });
      await store.createRun({ workflowId: wf.id });
      const [a, b] = await Promise.all([claimAll(store, 'a', 7), claimAll(other, 'b', 7)]);
      const ids = [...a, ...b].map((c) => c.task.id);
      expect(ids).toHaveLength(200);
      expect(new Set(ids).size).toBe(200);
    });

    test('markRunning records the start and moves the run to running; a wrong lease is refused', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run } = await store.createRun({ workflowId: wf.id });
      const [c] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      expect(await store.markRunning([{ taskId: c!.task.id, leaseId: 'not-the-lease' }])).toEqual([{ held: false, runStarted: false }]);
      expect((await store.getTask(c!.task.id)).status).toBe('dispatched');
      expect(await store.markRunning([{ ...leaseOf(c!), executionName: 'pid-42' }])).toEqual([{ held: true, runStarted: true }]);
      const task = await store.getTask(c!.task.id);
      expect(task).toMatchObject({ status: 'running', executionName: 'pid-42' });
      expect(task.startedAt).not.toBeNull();
      const r = await store.getRun(run.id);
      expect(r.status).toBe('running');
      expect(r.startedAt).not.toBeNull();
    });

    test("a retried task keeps its previous attempt's execution name until it starts again", async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      await store.createRun({ workflowId: wf.id });
      const [first] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      await store.markRunning([{ ...leaseOf(first!), executionName: 'exec-1' }]);
      await store.finishTasks([{ ...leaseOf(first!), status: 'failed', error: 'lost the worker', retryAt: new Date(Date.now() - 1) }]);
      const [second] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      expect(second!.task).toMatchObject({ attempt: 2, executionName: 'exec-1' });
      await store.markRunning([{ ...leaseOf(second!), executionName: 'exec-2' }]);
      expect((await store.getTask(first!.task.id)).executionName).toBe('exec-2');
    });
  });
}
