import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, type Store, type Workflow } from '@baton/core';
import { openFileStore } from '@baton/store-file';
import { makeDir, removeDir } from './helpers.js';

// The shared conformance suite covers the Store contract in full; these pin
// the queue rules this store implements in memory rather than in SQL.

let dir = '';
let store: Store;
beforeEach(async () => {
  dir = await makeDir();
  store = await openFileStore({ directory: dir });
});
afterEach(async () => {
  await store.close();
  await removeDir(dir);
});

const claim = (limit = 10, extra: Partial<Parameters<Store['claimTasks']>[0]> = {}) =>
  store.claimTasks({ workerId: 'w', limit, leaseMs: 60_000, ...extra });
const workflow = (name: string, steps: Workflow['steps'], more: object = {}) =>
  store.createWorkflow({ name, executor: 'function', steps, ...more });

describe('claims', () => {
  it('go by priority, then due time, then id; skip tasks not yet due and paused workflows', async () => {
    const low = await workflow('low', [{ name: 's', taskCount: 2 }]);
    const high = await workflow('high', [{ name: 's', priority: 5 }]);
    const paused = await workflow('paused', [{ name: 's', priority: 9 }]);
    const { run: lowRun } = await store.createRun({ workflowId: low.id });
    const { run: highRun } = await store.createRun({ workflowId: high.id });
    await store.createRun({ workflowId: high.id, runAt: new Date(Date.now() + 60_000) });
    await store.createRun({ workflowId: paused.id });
    await store.updateWorkflow(paused.id, { status: 'paused' });

    const first = await claim(2);
    expect(first.map((c) => c.task.runId)).toEqual([highRun.id, lowRun.id]);
    expect(first[0]).toMatchObject({
      task: { status: 'dispatched', attempt: 1, leaseOwner: 'w' },
      workflow: { name: 'high' },
      run: { id: highRun.id },
    });
    expect((await claim(10)).map((c) => c.task.taskIndex)).toEqual([1]);
    expect(await claim(10)).toEqual([]);
    expect((await claim(10, { workflowIds: [paused.id] })).length).toBe(0);
    await store.updateWorkflow(paused.id, { status: 'active' });
    expect((await claim(10, { excludeWorkflowIds: [paused.id] })).length).toBe(0);
    expect((await claim(10, { workflowIds: [paused.id] })).length).toBe(1);
  });
});

describe('finishing', () => {
  it('is fenced by lease, unblocks dependents, and rolls the run up', async () => {
    const wf = await workflow('dag', [
      { name: 'a', taskCount: 2 },
      { name: 'b', dependsOn: ['a'] },
    ]);
    const { run } = await store.createRun({ workflowId: wf.id });
    const [t1, t2] = await claim();
    const stale = await store.finishTasks([{ taskId: t1!.task.id, leaseId: 'not-the-lease', status: 'success', output: 1 }]);
    expect(stale.outcomes).toEqual([{ taskId: t1!.task.id, accepted: false, status: 'dispatched' }]);
    const done = await store.finishTasks(
      [t1!, t2!].map((c) => ({ taskId: c.task.id, leaseId: c.task.leaseId!, status: 'success' as const, output: c.task.taskIndex })),
    );
    expect(done).toMatchObject({ readyTasks: 1, finishedRuns: [] });
    const [b] = await claim();
    expect(b!.task.stepName).toBe('b');
    expect(await store.getStepOutputs(run.id, ['a'])).toEqual({ a: [0, 1] });
    const last = await store.finishTasks([{ taskId: b!.task.id, leaseId: b!.task.leaseId!, status: 'success', output: null }]);
    expect(last.finishedRuns).toEqual([{ runId: run.id, status: 'success' }]);
    expect(await store.getRun(run.id)).toMatchObject({ status: 'success', tasksFinished: 3, tasksFailed: 0 });
  });

  it('retries when asked, and a final failure cancels what waits downstream', async () => {
    const wf = await workflow('fail', [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['b'] }]);
    const { run } = await store.createRun({ workflowId: wf.id });
    const [a] = await claim();
    const retried = await store.finishTasks([
      { taskId: a!.task.id, leaseId: a!.task.leaseId!, status: 'failed', error: 'flaky', retryAt: new Date(0) },
    ]);
    expect(retried).toMatchObject({ readyTasks: 1, outcomes: [{ status: 'pending' }] });
    const [again] = await claim();
    expect(again!.task).toMatchObject({ id: a!.task.id, attempt: 2 });
    const failed = await store.finishTasks([{ taskId: a!.task.id, leaseId: again!.task.leaseId!, status: 'timeout', error: 'too slow' }]);
    expect(failed.finishedRuns).toEqual([{ runId: run.id, status: 'timeout' }]);
    const tasks = (await store.listTasks({ runId: run.id })).items;
    expect(tasks.map((t) => [t.stepName, t.status])).toEqual([
      ['a', 'timeout'],
      ['b', 'cancelled'],
      ['c', 'cancelled'],
    ]);
    expect(await store.getRun(run.id)).toMatchObject({ tasksFinished: 3, tasksFailed: 3, error: 'step "a" timeout: too slow' });
  });
});

describe('runs', () => {
  it('are created once per idempotency key, and not for draft workflows', async () => {
    const wf = await workflow('idem', [{ name: 's' }]);
    const first = await store.createRun({ workflowId: wf.id, idempotencyKey: 'k' });
    const second = await store.createRun({ workflowId: wf.id, idempotencyKey: 'k' });
    expect(second).toEqual({ run: first.run, created: false });
    const draft = await workflow('draft', [{ name: 's' }], { status: 'draft' });
    await expect(store.createRun({ workflowId: draft.id })).rejects.toBeInstanceOf(ConflictError);
    await expect(store.createRun({ workflowId: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('cancel waiting and pending tasks at once; leased ones end cancelled when their worker finishes', async () => {
    const wf = await workflow('cancel', [
      { name: 'a', taskCount: 2 },
      { name: 'b', dependsOn: ['a'] },
    ]);
    const { run } = await store.createRun({ workflowId: wf.id });
    const [leased] = await claim(1);
    const cancelled = await store.cancelRun(run.id, 'enough');
    expect(cancelled).toMatchObject({ status: 'cancelled', error: 'enough', tasksFinished: 2, tasksFailed: 2 });
    expect(await store.heartbeat([{ taskId: leased!.task.id, leaseId: leased!.task.leaseId! }], 1000)).toEqual(['cancelled']);
    const end = await store.finishTasks([{ taskId: leased!.task.id, leaseId: leased!.task.leaseId!, status: 'success', output: 1 }]);
    expect(end.outcomes[0]!.status).toBe('cancelled');
    expect(await store.getRun(run.id)).toMatchObject({ status: 'cancelled', tasksFinished: 3 });
    await expect(store.cancelRun(run.id)).rejects.toBeInstanceOf(ConflictError);
  });

  it('get their expired leases back: requeued while attempts remain, failed after', async () => {
    const wf = await workflow('lease', [{ name: 's', retry: { maxAttempts: 2 } }]);
    const { run } = await store.createRun({ workflowId: wf.id });
    const sleep = () => new Promise((r) => setTimeout(r, 30));
    const [first] = await claim(1, { leaseMs: 10 });
    await sleep();
    expect(await store.recoverExpiredLeases()).toEqual([{ taskId: first!.task.id, runId: run.id, status: 'pending' }]);
    expect(await store.heartbeat([{ taskId: first!.task.id, leaseId: first!.task.leaseId! }], 1000)).toEqual(['lost']);
    const [second] = await claim(1, { leaseMs: 10 });
    expect(second!.task.attempt).toBe(2);
    await sleep();
    expect(await store.recoverExpiredLeases()).toEqual([{ taskId: first!.task.id, runId: run.id, status: 'failed' }]);
    expect(await store.getRun(run.id)).toMatchObject({ status: 'failed', tasksFailed: 1 });
  });
});
