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
