import { expect } from 'vitest';
import { ValidationError } from '../errors.js';
import { claimAll, defineWorkflow, leaseOf, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

/** Finding a task by the execution name its executor recorded (a pid, a Cloud Run execution). */
export function executionCases(factory: StoreFactory): void {
  suite(factory, 'execution names', (test, { open, again }) => {
    test('finds the task an executor named, also from another handle', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'a', taskCount: 3 }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const claimed = await claimAll(store);
      expect(claimed).toHaveLength(3);
      const [first, second] = claimed;
      expect(
        await store.markRunning([
          { ...leaseOf(first!), executionName: 'jobs/etl/executions/etl-abc' },
          { ...leaseOf(second!), executionName: 'pid:4242' },
        ]),
      ).toEqual([
        // One run, started by this call: said on one mark only.
        { held: true, runStarted: true },
        { held: true, runStarted: false },
      ]);

      const found = await store.findTaskByExecutionName('jobs/etl/executions/etl-abc');
      expect(found).toMatchObject({ id: first!.task.id, runId: run.id, executionName: 'jobs/etl/executions/etl-abc', status: 'running' });
      expect((await store.findTaskByExecutionName('pid:4242'))?.id).toBe(second!.task.id);
      expect(await store.findTaskByExecutionName('pid:1')).toBeNull();
      // No prefix or case-insensitive match: the name is an exact key.
      expect(await store.findTaskByExecutionName('jobs/etl/executions/etl')).toBeNull();
      expect(await store.findTaskByExecutionName('PID:4242')).toBeNull();

      const other = await again(store);
      expect((await other.findTaskByExecutionName('pid:4242'))?.id).toBe(second!.task.id);
    });

    test('follows the task through its end, and a later name replaces the earlier', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      await store.createRun({ workflowId: wf.id });
      const [claim] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      await store.markRunning([{ ...leaseOf(claim!), executionName: 'exec-1' }]);
      await store.finishTasks([{ ...leaseOf(claim!), status: 'success', output: 7 }]);
      expect(await store.findTaskByExecutionName('exec-1')).toMatchObject({ id: claim!.task.id, status: 'success', output: 7 });

      const wf2 = await defineWorkflow(store, { retry: { maxAttempts: 2 } });
      await store.createRun({ workflowId: wf2.id });
      const [first] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      await store.markRunning([{ ...leaseOf(first!), executionName: 'exec-2a' }]);
      await store.finishTasks([{ ...leaseOf(first!), status: 'failed', error: 'boom', retryAt: new Date() }]);
      const [retry] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      expect(retry!.task.id).toBe(first!.task.id);
      await store.markRunning([{ ...leaseOf(retry!), executionName: 'exec-2b' }]);
      expect((await store.findTaskByExecutionName('exec-2b'))?.attempt).toBe(2);
      expect(await store.findTaskByExecutionName('exec-2a')).toBeNull();
    });

    test('when tasks share a name, the newest task is returned', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      await store.createRun({ workflowId: wf.id });
      const [older] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      await store.markRunning([{ ...leaseOf(older!), executionName: 'pid:77' }]);
      await store.createRun({ workflowId: wf.id });
      const [newer] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      expect(newer!.task.id > older!.task.id).toBe(true);
      await store.markRunning([{ ...leaseOf(newer!), executionName: 'pid:77' }]);
      expect((await store.findTaskByExecutionName('pid:77'))?.id).toBe(newer!.task.id);
    });

    test('an empty name is a ValidationError', async () => {
      const store = await open();
      await expect(store.findTaskByExecutionName('')).rejects.toBeInstanceOf(ValidationError);
    });
  });
}
