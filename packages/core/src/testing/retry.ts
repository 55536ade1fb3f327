import { expect } from 'vitest';
import { ConflictError, RetryRefusedError } from '../errors.js';
import type { Store } from '../store.js';
import { claimAll, defineFanIn, defineWorkflow, leaseOf, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

type Claimed = Awaited<ReturnType<typeof claimAll>>;
const succeed = (store: Store, claimed: Claimed) =>
  store.finishTasks(
    claimed.map((c) => ({ ...leaseOf(c), status: 'success' as const, output: { step: c.task.stepName, i: c.task.taskIndex } })),
  );
const statuses = async (store: Store, runId: string) =>
  Object.fromEntries((await store.listTasks({ runId })).items.map((t) => [`${t.stepName}${t.taskIndex}`, t.status]));

export function retryCases(factory: StoreFactory): void {
  suite(factory, 'retry a finished run', (test, { open }) => {
    test('a failed fan-out retried: only its failed and timed-out tasks run again, with fresh attempts, and the run succeeds', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'fan', taskCount: 3, retry: { maxAttempts: 1 } }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const first = await claimAll(store);
      const [t0, t1, t2] = [0, 1, 2].map((i) => first.find((c) => c.task.taskIndex === i)!);
      await succeed(store, [t0!]);
      await store.finishTasks([
        { ...leaseOf(t1!), status: 'failed', error: 'disk full' },
        { ...leaseOf(t2!), status: 'timeout', error: 'timed out after 5 ms' },
      ]);
      const failed = await store.getRun(run.id);
      expect(failed).toMatchObject({ status: 'failed', tasksFinished: 3, tasksFailed: 2 });
      expect(failed.error).toContain('disk full');

      const retried = await store.retryRun(run.id);
      expect(retried).toMatchObject({
        status: 'running',
        error: null,
        tasksTotal: 3,
        tasksFinished: 1,
        tasksFailed: 0,
        finishedAt: null,
        durationMs: null,
      });
      expect(await statuses(store, run.id)).toEqual({ fan0: 'success', fan1: 'pending', fan2: 'pending' });
      const reset = await store.getTask(t1!.task.id);
      expect(reset).toMatchObject({ attempt: 0, error: null, output: null, leaseId: null, finishedAt: null });
      // The succeeded task keeps its output and is not claimed again.
      expect((await store.getTask(t0!.task.id)).output).toEqual({ step: 'fan', i: 0 });

      const again = await claimAll(store);
      expect(again.map((c) => c.task.taskIndex).sort()).toEqual([1, 2]);
      // maxAttempts is 1: the fresh attempt is allowed because the counter started over.
      expect(again.every((c) => c.task.attempt === 1)).toBe(true);
      const end = await succeed(store, again);
      expect(end.finishedRuns).toEqual([{ runId: run.id, status: 'success' }]);
      const done = await store.getRun(run.id);
      expect(done).toMatchObject({ status: 'success', tasksFinished: 3, tasksFailed: 0, error: null });
      expect(done.finishedAt).not.toBeNull();
      expect(await store.getStepOutputs(run.id, ['fan'])).toEqual({ fan: [0, 1, 2].map((i) => ({ step: 'fan', i })) });
    });

    test('downstream tasks cancelled by a failure come back waiting, and become pending when the retried step succeeds', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, {
        steps: [
          { name: 'a', taskCount: 2 },
          { name: 'b', dependsOn: ['a'] },
          { name: 'c', dependsOn: ['b'], taskCount: 2 },
        ],
      });
      const { run } = await store.createRun({ workflowId: wf.id });
      const a = await claimAll(store);
      await succeed(store, [a[0]!]);
      await store.finishTasks([{ ...leaseOf(a[1]!), status: 'failed', error: 'boom' }]);
      expect((await store.getRun(run.id)).status).toBe('failed');
      expect(await statuses(store, run.id)).toEqual({ a0: 'success', a1: 'failed', b0: 'cancelled', c0: 'cancelled', c1: 'cancelled' });

      const retried = await store.retryRun(run.id);
      expect(retried).toMatchObject({ status: 'running', tasksFinished: 1, tasksFailed: 0 });
      expect(await statuses(store, run.id)).toEqual({ a0: 'success', a1: 'pending', b0: 'waiting', c0: 'waiting', c1: 'waiting' });

      const a1 = await claimAll(store);
      expect(a1.map((c) => `${c.task.stepName}${c.task.taskIndex}`)).toEqual(['a1']);
      const afterA = await succeed(store, a1);
      expect(afterA.readyTasks).toBe(1);
      const b = await claimAll(store);
      expect(b.map((c) => c.task.stepName)).toEqual(['b']);
      await succeed(store, b);
      const c = await claimAll(store);
      expect(c.map((x) => x.task.stepName)).toEqual(['c', 'c']);
      const end = await succeed(store, c);
      expect(end.finishedRuns).toEqual([{ runId: run.id, status: 'success' }]);
      expect(await store.getRun(run.id)).toMatchObject({ status: 'success', tasksFinished: 5, tasksFailed: 0 });
    });

    test('a cancelled run retried: its cancelled tasks run again', async () => {
      const store = await open();
      const wf = await defineFanIn(store, 2);
      const { run } = await store.createRun({ workflowId: wf.id });
      await store.cancelRun(run.id, 'operator said stop');
      const retried = await store.retryRun(run.id);
      // Never started: back to pending, not running.
      expect(retried).toMatchObject({ status: 'pending', error: null, tasksFinished: 0, tasksFailed: 0 });
      expect(await statuses(store, run.id)).toEqual({ a0: 'pending', a1: 'pending', b0: 'waiting' });
      await succeed(store, await claimAll(store));
      const end = await succeed(store, await claimAll(store));
      expect(end.finishedRuns).toEqual([{ runId: run.id, status: 'success' }]);
    });

    test('a failure after a retry fails the run again, with the new error', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run } = await store.createRun({ workflowId: wf.id });
      await store.finishTasks((await claimAll(store)).map((c) => ({ ...leaseOf(c), status: 'failed' as const, error: 'first' })));
      await store.retryRun(run.id);
      const end = await store.finishTasks(
        (await claimAll(store)).map((c) => ({ ...leaseOf(c), status: 'failed' as const, error: 'second' })),
      );
      expect(end.finishedRuns).toEqual([{ runId: run.id, status: 'failed' }]);
      const done = await store.getRun(run.id);
      expect(done).toMatchObject({ status: 'failed', tasksFinished: 1, tasksFailed: 1 });
      expect(done.error).toContain('second');
    });

    test('refused for a pending, running or succeeded run, and nothing changes', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const pending = await store.retryRun(run.id).catch((e) => e);
      expect(pending).toBeInstanceOf(RetryRefusedError);
      expect(pending).toBeInstanceOf(ConflictError);
      expect(pending).toMatchObject({ code: 'CONFLICT', runId: run.id });
      expect(pending.message).toContain('pending');

      const a = await claimAll(store);
      await store.markRunning(a.map(leaseOf));
      const before = JSON.stringify(await store.listTasks({ runId: run.id }));
      const running = await store.retryRun(run.id).catch((e) => e);
      expect(running).toBeInstanceOf(RetryRefusedError);
      expect(running.message).toContain('running');
      expect(JSON.stringify(await store.listTasks({ runId: run.id }))).toBe(before);
      expect((await store.getRun(run.id)).status).toBe('running');

      await succeed(store, a);
      await succeed(store, await claimAll(store));
      expect((await store.getRun(run.id)).status).toBe('success');
      const succeeded = await store.retryRun(run.id).catch((e) => e);
      expect(succeeded).toBeInstanceOf(RetryRefusedError);
      expect(succeeded.message).toContain('succeeded');
      expect((await store.getRun(run.id)).status).toBe('success');
    });

    test('refused while a cancelled run still has tasks held by a worker; a second retry of the same run is refused', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run } = await store.createRun({ workflowId: wf.id });
      const [c] = await claimAll(store);
      await store.cancelRun(run.id);
      const held = await store.retryRun(run.id).catch((e) => e);
      expect(held).toBeInstanceOf(RetryRefusedError);
      expect(held.message).toContain('held by a worker');
      await store.finishTasks([{ ...leaseOf(c!), status: 'cancelled' }]);
      expect((await store.retryRun(run.id)).status).toBe('running');
      await expect(store.retryRun(run.id)).rejects.toBeInstanceOf(RetryRefusedError);
      expect((await claimAll(store)).map((x) => x.task.id)).toEqual([c!.task.id]);
    });
  });
}
