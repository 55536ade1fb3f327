import { expect } from 'vitest';
import type { Store } from '../store.js';
import { claimAll, defineFanIn, defineWorkflow, leaseOf, sleep, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

async function succeed(store: Store, claimed: Awaited<ReturnType<typeof claimAll>>) {
  return store.finishTasks(
    claimed.map((c) => ({ ...leaseOf(c), status: 'success' as const, output: { i: c.task.taskIndex, step: c.task.stepName } })),
  );
}

export function finishCases(factory: StoreFactory): void {
  suite(factory, 'finish and roll-up', (test, { open }) => {
    test('dependents wait until every upstream task succeeded, then become pending in the same call', async () => {
      const store = await open();
      const wf = await defineFanIn(store, 3);
      const { run } = await store.createRun({ workflowId: wf.id });
      const a = await claimAll(store);
      expect(a.map((c) => c.task.stepName)).toEqual(['a', 'a', 'a']);
      const first = await succeed(store, a.slice(0, 2));
      expect(first.readyTasks).toBe(0);
      expect((await store.listTasks({ runId: run.id, stepName: 'b' })).items[0]!.status).toBe('waiting');
      const last = await succeed(store, a.slice(2));
      expect(last.readyTasks).toBe(1);
      expect((await store.listTasks({ runId: run.id, stepName: 'b' })).items[0]!.status).toBe('pending');
      const b = await claimAll(store);
      const end = await succeed(store, b);
      expect(end.finishedRuns).toEqual([{ runId: run.id, status: 'success' }]);
      const done = await store.getRun(run.id);
      expect(done).toMatchObject({ status: 'success', tasksTotal: 4, tasksFinished: 4, tasksFailed: 0, error: null });
      expect(done.finishedAt).not.toBeNull();
      expect(done.durationMs).toBeGreaterThanOrEqual(0);
      expect(await store.getStepOutputs(run.id, ['a', 'b'])).toEqual({
        a: [0, 1, 2].map((i) => ({ i, step: 'a' })),
        b: [{ i: 0, step: 'b' }],
      });
      const task = await store.getTask(a[0]!.task.id);
      expect(task).toMatchObject({ status: 'success', leaseId: null, error: null });
      expect(task.finishedAt).not.toBeNull();
    });

    test('step outputs: a step with dependents and a step standing alone, each in task order, only successes, only this run', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, {
        steps: [
          { name: 'side', taskCount: 3 },
          { name: 'a', taskCount: 2 },
          { name: 'b', dependsOn: ['a'] },
        ],
      });
      const { run } = await store.createRun({ workflowId: wf.id });
      const { run: other } = await store.createRun({ workflowId: wf.id });
      const firsts = await claimAll(store);
      const ours = firsts.filter((c) => c.task.runId === run.id);
      const failing = ours.find((c) => c.task.stepName === 'side' && c.task.taskIndex === 1)!;
      await succeed(
        store,
        firsts.filter((c) => c !== failing),
      );
      await store.finishTasks([{ ...leaseOf(failing), status: 'failed', error: 'no' }]);
      await succeed(store, await claimAll(store));
      const outputs = (step: string, ...i: number[]) => i.map((n) => ({ i: n, step }));
      // 'a' is found through its step row, 'side' (no dependency either way) by name, a mix by name.
      expect(await store.getStepOutputs(run.id, ['a'])).toEqual({ a: outputs('a', 0, 1) });
      expect(await store.getStepOutputs(run.id, ['side'])).toEqual({ side: outputs('side', 0, 2) });
      expect(await store.getStepOutputs(run.id, ['b', 'side', 'unknown'])).toEqual({
        b: outputs('b', 0),
        side: outputs('side', 0, 2),
        unknown: [],
      });
      expect(await store.getStepOutputs(other.id, ['side', 'a'])).toEqual({ side: outputs('side', 0, 1, 2), a: outputs('a', 0, 1) });
    });

    test('a failure cancels downstream tasks transitively; an independent branch still completes; the run fails once all ended', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, {
        steps: [
          { name: 'a', taskCount: 2 },
          { name: 'b', dependsOn: ['a'] },
          { name: 'c', dependsOn: ['b'], taskCount: 2 },
          { name: 'side' },
        ],
      });
      const { run } = await store.createRun({ workflowId: wf.id });
      const firsts = await claimAll(store);
      const a0 = firsts.find((c) => c.task.stepName === 'a' && c.task.taskIndex === 0)!;
      const a1 = firsts.find((c) => c.task.stepName === 'a' && c.task.taskIndex === 1)!;
      const side = firsts.find((c) => c.task.stepName === 'side')!;
      const failed = await store.finishTasks([{ ...leaseOf(a0), status: 'failed', error: 'disk full' }]);
      expect(failed.finishedRuns).toEqual([]);
      const statuses = Object.fromEntries(
        (await store.listTasks({ runId: run.id })).items.map((t) => [`${t.stepName}${t.taskIndex}`, t.status]),
      );
      expect(statuses).toEqual({ a0: 'failed', a1: 'dispatched', b0: 'cancelled', c0: 'cancelled', c1: 'cancelled', side0: 'dispatched' });
      expect((await store.getRun(run.id)).status).not.toBe('failed');
      await succeed(store, [a1]);
      const end = await succeed(store, [side]);
      expect(end.finishedRuns).toEqual([{ runId: run.id, status: 'failed' }]);
      const done = await store.getRun(run.id);
      expect(done).toMatchObject({ status: 'failed', tasksFinished: 6, tasksFailed: 4 });
      expect(done.error).toContain('disk full');
    });

    test('a timeout ends the run as timeout', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run } = await store.createRun({ workflowId: wf.id });
      const [c] = await claimAll(store);
      const result = await store.finishTasks([{ ...leaseOf(c!), status: 'timeout', error: 'timed out after 5 ms' }]);
      expect(result.outcomes[0]).toMatchObject({ accepted: true, status: 'timeout' });
      expect(result.finishedRuns).toEqual([{ runId: run.id, status: 'timeout' }]);
    });

    test('a failure with retryAt goes back to pending, not claimable before then', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run } = await store.createRun({ workflowId: wf.id });
      const [c] = await claimAll(store);
      const retryAt = new Date(Date.now() + 300);
      const result = await store.finishTasks([{ ...leaseOf(c!), status: 'failed', error: 'flaky', retryAt }]);
      expect(result.outcomes[0]).toMatchObject({ accepted: true, status: 'pending' });
      expect(result.readyTasks).toBe(1);
      const task = await store.getTask(c!.task.id);
      expect(task).toMatchObject({ status: 'pending', error: 'flaky', attempt: 1, leaseId: null, finishedAt: null });
      expect(task.runAt.getTime()).toBe(retryAt.getTime());
      expect(await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 1000 })).toEqual([]);
      await sleep(350);
      const [again] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 1000 });
      expect(again?.task).toMatchObject({ id: c!.task.id, attempt: 2 });
      expect((await store.getRun(run.id)).tasksFinished).toBe(0);
    });

    test('many endings of one run in one call roll up once, and the run finishes exactly once', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 60 }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const claimed = await claimAll(store, 'w', 100);
      const half = await succeed(store, claimed.slice(0, 30));
      expect(half.finishedRuns).toEqual([]);
      expect((await store.getRun(run.id)).tasksFinished).toBe(30);
      const rest = await succeed(store, claimed.slice(30));
      expect(rest.finishedRuns).toEqual([{ runId: run.id, status: 'success' }]);
      const again = await succeed(store, claimed.slice(30));
      expect(again.outcomes.every((o) => !o.accepted)).toBe(true);
      expect(again.finishedRuns).toEqual([]);
      expect((await store.getRun(run.id)).tasksFinished).toBe(60);
    });
  });

  suite(factory, 'leases and fencing', (test, { open }) => {
    test('a wrong lease id cannot finish, heartbeat or release, and writes nothing', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      await store.createRun({ workflowId: wf.id });
      const [c] = await claimAll(store);
      const forged = { taskId: c!.task.id, leaseId: 'forged' };
      const result = await store.finishTasks([{ ...forged, status: 'success', output: 'evil' }]);
      expect(result.outcomes[0]).toMatchObject({ accepted: false, status: 'dispatched' });
      expect(await store.heartbeat([forged], 60_000)).toEqual(['lost']);
      expect(await store.releaseTasks([forged])).toBe(0);
      const task = await store.getTask(c!.task.id);
      expect(task).toMatchObject({ status: 'dispatched', output: null, leaseId: c!.task.leaseId });
    });

    test('ids that name nothing (not an id at all, or another spelling of a real one) are refused alone in their batch', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 4 }] });
      await store.createRun({ workflowId: wf.id });
      const [a, b, c, d] = await claimAll(store);
      // A store whose ids are not text (PostgreSQL: uuid) must not fail the batch on the cast,
      // nor read an upper-case spelling as the same id when SQLite and the file store do not.
      const shouted = { taskId: b!.task.id, leaseId: b!.task.leaseId!.toUpperCase() };
      const result = await store.finishTasks([
        { taskId: 'not-a-task', leaseId: 'not-a-lease', status: 'success', output: 1 },
        { ...leaseOf(a!), status: 'success', output: 'a' },
        { ...shouted, status: 'success', output: 'evil' },
        { taskId: c!.task.id.toUpperCase(), leaseId: c!.task.leaseId!, status: 'success', output: 'evil' },
      ]);
      expect(result.outcomes.map((o) => [o.accepted, o.status])).toEqual([
        [false, 'failed'],
        [true, 'success'],
        [false, 'dispatched'],
        [false, 'failed'],
      ]);
      expect(await store.heartbeat([{ taskId: 'x', leaseId: 'y' }, leaseOf(d!), shouted], 60_000)).toEqual(['lost', 'held', 'lost']);
      expect(await store.markRunning([{ taskId: 'x', leaseId: 'y' }, { ...leaseOf(d!) }, shouted])).toMatchObject([
        { held: false },
        { held: true },
        { held: false },
      ]);
      expect(
        await store.releaseTasks([{ taskId: 'x', leaseId: 'y' }, shouted, { taskId: c!.task.id.toUpperCase(), leaseId: c!.task.leaseId! }]),
      ).toBe(0);
      expect(await store.getTask(b!.task.id)).toMatchObject({ status: 'dispatched', output: null, leaseId: b!.task.leaseId });
      expect(await store.getTask(c!.task.id)).toMatchObject({ status: 'dispatched', output: null, leaseId: c!.task.leaseId });
      expect(await store.getTask(d!.task.id)).toMatchObject({ status: 'running' });
    });

    test('heartbeats extend a held lease', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      await store.createRun({ workflowId: wf.id });
      const [c] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 1000 });
      expect(await store.heartbeat([leaseOf(c!)], 120_000)).toEqual(['held']);
      const task = await store.getTask(c!.task.id);
      expect(task.leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 100_000);
      expect(await store.recoverExpiredLeases(new Date(Date.now() + 10_000))).toEqual([]);
    });

    test('in one call: written endings, a refused one answered with the task as it stands, a task listed twice written once', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 3 }] });
      await store.createRun({ workflowId: wf.id });
      const [a, b, c] = await claimAll(store);
      // b's lease is given up and taken again: its first lease is stale.
      await store.releaseTasks([leaseOf(b!)]);
      const [again] = await store.claimTasks({ workerId: 'other', limit: 1, leaseMs: 60_000 });
      expect(again!.task.id).toBe(b!.task.id);
      const out = await store.finishTasks([
        { ...leaseOf(a!), status: 'success', output: 1 },
        { ...leaseOf(b!), status: 'success', output: 'stale' },
        { ...leaseOf(c!), status: 'failed', error: 'boom' },
        { ...leaseOf(c!), status: 'success', output: 'second listing' },
      ]);
      expect(out.outcomes).toEqual([
        { taskId: a!.task.id, accepted: true, status: 'success' },
        { taskId: b!.task.id, accepted: false, status: again!.task.status },
        { taskId: c!.task.id, accepted: true, status: 'failed' },
        { taskId: c!.task.id, accepted: false, status: 'failed' },
      ]);
      expect((await store.getTask(b!.task.id)).output).toBeNull();
      expect((await store.getTask(c!.task.id)).error).toBe('boom');
    });

    test('expired leases come back; the stale worker cannot finish; the new one can', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { retry: { maxAttempts: 3 } });
      const { run } = await store.createRun({ workflowId: wf.id });
      const [stale] = await store.claimTasks({ workerId: 'stale', limit: 1, leaseMs: 50 });
      const untouched = await defineWorkflow(store);
      await store.createRun({ workflowId: untouched.id });
      const [live] = await store.claimTasks({ workerId: 'live', limit: 1, leaseMs: 60_000 });
      await sleep(80);
      const recovered = await store.recoverExpiredLeases();
      expect(recovered).toEqual([{ taskId: stale!.task.id, runId: run.id, status: 'pending' }]);
      expect((await store.getTask(live!.task.id)).status).toBe('dispatched');
      const back = await store.getTask(stale!.task.id);
      expect(back).toMatchObject({ status: 'pending', attempt: 1, leaseId: null });
      const [fresh] = await store.claimTasks({ workerId: 'fresh', limit: 1, leaseMs: 60_000 });
      expect(fresh!.task).toMatchObject({ id: stale!.task.id, attempt: 2, leaseOwner: 'fresh' });
      expect(fresh!.task.leaseId).not.toBe(stale!.task.leaseId);
      const late = await store.finishTasks([{ ...leaseOf(stale!), status: 'success', output: 'stale' }]);
      expect(late.outcomes[0]!.accepted).toBe(false);
      expect(await store.heartbeat([leaseOf(stale!)], 1000)).toEqual(['lost']);
      const ok = await store.finishTasks([{ ...leaseOf(fresh!), status: 'success', output: 'fresh' }]);
      expect(ok.outcomes[0]!.accepted).toBe(true);
      expect((await store.getTask(stale!.task.id)).output).toBe('fresh');
    });

    test('a recovered task keeps its place in the queue: it is claimed before tasks queued after it', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { retry: { maxAttempts: 3 } });
      const { run: first } = await store.createRun({ workflowId: wf.id, runAt: new Date(Date.now() - 60_000) });
      const [lost] = await store.claimTasks({ workerId: 'crashed', limit: 1, leaseMs: 20 });
      expect(lost!.task.runId).toBe(first.id);
      const before = (await store.getTask(lost!.task.id)).runAt.getTime();
      // Queued after the lost task, but due already: a requeue "at now" would put the lost task behind these.
      for (let i = 0; i < 3; i++) await store.createRun({ workflowId: wf.id, runAt: new Date(Date.now() - 30_000) });
      await sleep(40);
      expect(await store.recoverExpiredLeases()).toEqual([{ taskId: lost!.task.id, runId: first.id, status: 'pending' }]);
      expect((await store.getTask(lost!.task.id)).runAt.getTime()).toBe(before);
      const [next] = await store.claimTasks({ workerId: 'healthy', limit: 1, leaseMs: 60_000 });
      expect(next!.task).toMatchObject({ id: lost!.task.id, attempt: 2 });
    });

    test('an expired lease on the last attempt fails the task and rolls the run up', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { retry: { maxAttempts: 1 } });
      const { run } = await store.createRun({ workflowId: wf.id });
      const [c] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 20 });
      const recovered = await store.recoverExpiredLeases(new Date(Date.now() + 1000));
      expect(recovered).toEqual([{ taskId: c!.task.id, runId: run.id, status: 'failed' }]);
      const task = await store.getTask(c!.task.id);
      expect(task.status).toBe('failed');
      expect(task.error).toMatch(/lease/);
      expect((await store.getRun(run.id)).status).toBe('failed');
    });

    test('releasing gives the task back without charging the attempt', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      await store.createRun({ workflowId: wf.id });
      const [c] = await claimAll(store);
      expect(await store.releaseTasks([leaseOf(c!)])).toBe(1);
      expect(await store.getTask(c!.task.id)).toMatchObject({ status: 'pending', attempt: 0, leaseId: null, leaseOwner: null });
      expect((await store.finishTasks([{ ...leaseOf(c!), status: 'success', output: 1 }])).outcomes[0]!.accepted).toBe(false);
      const [again] = await claimAll(store);
      expect(again!.task.attempt).toBe(1);
    });
  });
}
