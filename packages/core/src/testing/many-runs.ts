import { expect } from 'vitest';
import { BatonError, ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { claimAll, defineFanIn, defineWorkflow, expectStartedByClaim, leaseOf, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

/**
 * `createRuns` (many runs, one transaction) and what a batch of endings
 * spanning many runs does: the set-based paths every store must agree on.
 */
export function manyRunsCases(factory: StoreFactory): void {
  suite(factory, 'many runs at once', (test, { open }) => {
    const bulk = factory.bulkRuns ?? 6000;
    test('createRuns creates each run with its own inputs, key, priority and runAt, answered in order', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }] });
      const later = new Date(Date.now() + 60_000);
      const answers = await store.createRuns([
        { workflowId: wf.id, inputs: { n: 0 } },
        { workflowId: wf.id, inputs: { n: 1 }, idempotencyKey: 'k1', priority: 5, triggeredBy: 'api' },
        { workflowId: wf.id, inputs: { n: 2 }, runAt: later, metadata: { m: true } },
      ]);
      expect(answers.map((a) => a.created)).toEqual([true, true, true]);
      expect(answers.map((a) => a.run.inputs)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
      expect(answers[1]!.run).toMatchObject({ idempotencyKey: 'k1', triggeredBy: 'api', status: 'pending', tasksTotal: 2 });
      for (const { run } of answers) expect(await store.getRun(run.id)).toEqual(run);
      const tasks = (await store.listTasks({ runId: answers[0]!.run.id })).items;
      expect(tasks.map((t) => [t.stepName, t.status])).toEqual([
        ['a', 'pending'],
        ['b', 'waiting'],
      ]);
      // Priority first, then runAt: the run due later is not claimable yet.
      const claimed = await claimAll(store);
      expect(claimed.map((c) => c.run.id)).toEqual([answers[1]!.run.id, answers[0]!.run.id]);
      expect(claimed[0]!.task.priority).toBe(5);
      expect((await store.listTasks({ runId: answers[2]!.run.id })).items[0]!.runAt.getTime()).toBe(later.getTime());
    });

    test('createRuns writes a value that differs only in the last run of a batch, and values equal in every run, as given', async () => {
      // Stores may send a column once when every row holds the same value (store-sql json-rows.ts):
      // a batch where each field changes only at its end catches a sameness check that stops early.
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'a' }] });
      const later = new Date(Date.now() + 60_000);
      const same = () => ({ inputs: { deep: { list: [1, 'two', null] } }, metadata: { tag: 'x' } });
      const items = [
        { workflowId: wf.id, ...same() },
        { workflowId: wf.id, ...same() },
        {
          workflowId: wf.id,
          inputs: { deep: { list: [1, 'two', 3] } },
          metadata: { tag: 'y' },
          idempotencyKey: 'last',
          priority: 7,
          runAt: later,
          triggeredBy: 'schedule' as const,
        },
      ];
      const answers = await store.createRuns(items);
      const runs = await Promise.all(answers.map((a) => store.getRun(a.run.id)));
      expect(runs.map((r) => [r.inputs, r.metadata, r.idempotencyKey, r.triggeredBy])).toEqual([
        [same().inputs, same().metadata, null, 'manual'],
        [same().inputs, same().metadata, null, 'manual'],
        [items[2]!.inputs, { tag: 'y' }, 'last', 'schedule'],
      ]);
      const tasks = await Promise.all(runs.map(async (r) => (await store.listTasks({ runId: r.id })).items[0]!));
      expect(tasks.map((t) => [t.runId, t.priority, t.runAt.getTime() === later.getTime()])).toEqual([
        [runs[0]!.id, 0, false],
        [runs[1]!.id, 0, false],
        [runs[2]!.id, 7, true],
      ]);
      expect(new Set(tasks.map((t) => t.id)).size).toBe(3);
    });

    test('createRuns keeps the nulls inside JSON values, and fields never set read back null', async () => {
      const store = await open();
      const params = { p: null, q: [null, 1] };
      const wf = await defineWorkflow(store, { steps: [{ name: 'a', params }] });
      const inputs = { a: null, b: { c: null }, d: [null] };
      const [answer, plain] = await store.createRuns([{ workflowId: wf.id, inputs, metadata: { m: null } }, { workflowId: wf.id }]);
      const run = await store.getRun(answer!.run.id);
      expect(run.inputs).toEqual(inputs);
      expect(run.metadata).toEqual({ m: null });
      expect(run).toMatchObject({ idempotencyKey: null, error: null, startedAt: null, finishedAt: null });
      const [task] = (await store.listTasks({ runId: run.id })).items;
      expect(task!.params).toEqual(params);
      expect(task).toMatchObject({ output: null, error: null, leaseId: null, startedAt: null, finishedAt: null });
      expect((await store.getRun(plain!.run.id)).inputs).toEqual({});
    });

    test('createRuns answers a key used before, or earlier in the same call, with that run and created: false', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run: first } = await store.createRun({ workflowId: wf.id, idempotencyKey: 'old' });
      const answers = await store.createRuns([
        { workflowId: wf.id, idempotencyKey: 'old' },
        { workflowId: wf.id, idempotencyKey: 'new', inputs: { first: true } },
        { workflowId: wf.id, idempotencyKey: 'new', inputs: { first: false } },
      ]);
      expect(answers.map((a) => a.created)).toEqual([false, true, false]);
      expect(answers[0]!.run.id).toBe(first.id);
      expect(answers[2]!.run.id).toBe(answers[1]!.run.id);
      expect(answers[2]!.run.inputs).toEqual({ first: true });
      expect((await store.listRuns({ workflowId: wf.id })).items).toHaveLength(2);
    });

    test('createRuns is all or nothing: a bad item, an unknown or archived workflow creates no run', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const archived = await defineWorkflow(store);
      await store.updateWorkflow(archived.id, { status: 'archived' });
      const bad = store.createRuns([{ workflowId: wf.id }, { workflowId: wf.id, inputs: 'nope' as never }]);
      await expect(bad).rejects.toBeInstanceOf(ValidationError);
      await expect(bad).rejects.toThrow(/1\.inputs/);
      await expect(
        store.createRuns([{ workflowId: wf.id }, { workflowId: '0190d2c6-0000-7000-8000-000000000000' }]),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.createRuns([{ workflowId: wf.id, idempotencyKey: 'x' }, { workflowId: archived.id }])).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect((await store.listRuns({})).items).toEqual([]);
      expect(await claimAll(store)).toEqual([]);
      expect(await store.createRuns([])).toEqual([]);
      // The key of the rejected call was not taken.
      expect((await store.createRuns([{ workflowId: wf.id, idempotencyKey: 'x' }]))[0]!.created).toBe(true);
    });

    test('createRuns of thousands of runs, written a part at a time, leaves every run whole', async () => {
      // store-sql inserts 5,000 rows a statement, each part while it builds the next: with two tasks
      // a run, the first part of tasks fills at run 2,500, before the runs'. Every run must still
      // get its row, its tasks and its step counters.
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }] });
      const n = bulk;
      const answers = await store.createRuns(Array.from({ length: n }, (_, i) => ({ workflowId: wf.id, inputs: { i } })));
      expect(new Set(answers.map((a) => a.run.id)).size).toBe(n);
      for (const i of [0, 2499, 2500, 4999, 5000, n - 1].filter((i) => i < n)) {
        const { run } = answers[i]!;
        expect((await store.getRun(run.id)).inputs).toEqual({ i });
        const tasks = (await store.listTasks({ runId: run.id })).items;
        expect(tasks.map((t) => [t.stepName, t.status])).toEqual([
          ['a', 'pending'],
          ['b', 'waiting'],
        ]);
      }
      // Every run's step counters were written: finishing each `a` makes its `b` ready.
      const first = await claimAll(store, 'w', 1000);
      expect(first).toHaveLength(n);
      await store.finishTasks(first.map((c) => ({ ...leaseOf(c), status: 'success' as const, output: null })));
      const second = await claimAll(store, 'w', 1000);
      expect(second.map((c) => c.task.stepName)).toEqual(Array.from({ length: n }, () => 'b'));
      expect(new Set(second.map((c) => c.run.id))).toEqual(new Set(answers.map((a) => a.run.id)));
    });

    test('createRuns whose last run cannot be planned names that item, creates nothing, and leaves the store usable', async () => {
      // Limited runs are planned one by one from their inputs, after store-sql has queued earlier
      // parts: a failure there must leave no queued insert to run once the transaction is gone.
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', concurrency: { key: 'tenant:{inputs.tenant}', limit: 2 } }] });
      const items = Array.from({ length: bulk }, (_, i) => ({
        workflowId: wf.id,
        inputs: i === bulk - 1 ? ({} as Record<string, string>) : { tenant: `t${i % 3}` },
      }));
      const error = await store.createRuns(items).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(`${bulk - 1}.inputs.tenant`);
      // A straggling insert would land after the rollback: give it time to.
      await new Promise((r) => setTimeout(r, 200));
      expect((await store.listRuns({})).items).toEqual([]);
      expect(await claimAll(store)).toEqual([]);
      const created = await store.createRuns(items.slice(0, 3));
      expect(created.map((c) => c.created)).toEqual([true, true, true]);
    });

    test('one finish call spanning many runs and steps rolls each run up as if finished alone', async () => {
      const store = await open();
      const single = await defineWorkflow(store);
      const dag = await defineWorkflow(store, {
        steps: [{ name: 'a', taskCount: 2 }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['b'] }, { name: 'side' }],
      });
      const singles = await store.createRuns(Array.from({ length: 30 }, (_, i) => ({ workflowId: single.id, inputs: { i } })));
      const { run: ok } = await store.createRun({ workflowId: dag.id });
      const { run: bad } = await store.createRun({ workflowId: dag.id });
      const claimed = await claimAll(store);
      expect(claimed).toHaveLength(30 + 2 * 3);
      const results = claimed.map((c, i) => {
        if (c.run.id === bad.id && c.task.stepName === 'a' && c.task.taskIndex === 1)
          return { ...leaseOf(c), status: 'timeout' as const, error: 'slow' };
        if (c.run.id !== ok.id && c.run.id !== bad.id && i % 10 === 3)
          return { ...leaseOf(c), status: 'failed' as const, error: `boom ${i}` };
        return { ...leaseOf(c), status: 'success' as const, output: i };
      });
      const out = await store.finishTasks(results);
      expect(out.outcomes.every((o) => o.accepted)).toBe(true);
      expect(out.readyTasks).toBe(1);
      const failedSingles = singles.filter((s) => results.some((r, i) => r.status === 'failed' && claimed[i]!.run.id === s.run.id));
      expect(failedSingles).toHaveLength(3);
      expect(out.finishedRuns).toEqual(
        [
          ...singles.map((s) => ({ runId: s.run.id, status: failedSingles.includes(s) ? 'failed' : 'success' })),
          { runId: bad.id, status: 'timeout' },
        ].sort((a, b) => (a.runId < b.runId ? -1 : 1)),
      );
      for (const s of singles) {
        const run = await store.getRun(s.run.id);
        const failed = failedSingles.includes(s);
        expect(run).toMatchObject({ status: failed ? 'failed' : 'success', tasksFinished: 1, tasksFailed: failed ? 1 : 0 });
        if (failed) expect(run.error).toMatch(/^step "only" failed: boom \d+$/);
        expect(run.startedAt).not.toBeNull();
        expect(run.durationMs).toBe(run.finishedAt!.getTime() - run.startedAt!.getTime());
      }
      const okTasks = Object.fromEntries((await store.listTasks({ runId: ok.id })).items.map((t) => [t.stepName, t.status]));
      expect(okTasks).toEqual({ a: 'success', b: 'pending', c: 'waiting', side: 'success' });
      expect(await store.getRun(ok.id)).toMatchObject({ status: 'running', tasksFinished: 3, tasksFailed: 0 });
      const badTasks = (await store.listTasks({ runId: bad.id })).items.map((t) => [t.stepName, t.status, t.error]);
      expect(badTasks).toEqual([
        ['a', 'success', null],
        ['a', 'timeout', 'slow'],
        ['b', 'cancelled', 'upstream step "a" failed'],
        ['c', 'cancelled', 'upstream step "a" failed'],
        ['side', 'success', null],
      ]);
      expect(await store.getRun(bad.id)).toMatchObject({
        status: 'timeout',
        tasksFinished: 5,
        tasksFailed: 3,
        error: 'step "a" timeout: slow',
      });
    });

    test("an attempt start given with the mark or the ending is the task's and, for the first, the run's startedAt", async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'only', taskCount: 2 }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const [t0, t1] = await claimAll(store);
      const start0 = new Date(Date.now() - 5000);
      const start1 = new Date(Date.now() - 7000);
      expect(await store.markRunning([{ ...leaseOf(t0!), startedAt: start0 }])).toEqual([{ held: true, runStarted: true }]);
      expect(await store.getRun(run.id)).toMatchObject({ status: 'running', startedAt: start0 });
      expect((await store.getTask(t0!.task.id)).startedAt).toEqual(start0);
      // No mark for t1: its ending carries its start, earlier than t0's; the run keeps the start it has.
      await store.finishTasks([{ ...leaseOf(t1!), startedAt: start1, status: 'success', output: null }]);
      expect((await store.getTask(t1!.task.id)).startedAt).toEqual(start1);
      const out = await store.finishTasks([{ ...leaseOf(t0!), status: 'success', output: null }]);
      expect(out.finishedRuns).toEqual([{ runId: run.id, status: 'success' }]);
      const done = await store.getRun(run.id);
      expect(done.startedAt).toEqual(start0);
      expect(done.durationMs).toBe(done.finishedAt!.getTime() - start0.getTime());
      expect(done.durationMs).toBeGreaterThanOrEqual(5000);
    });

    test('a run whose only attempt ended before any mark starts when the attempt started, not when it ended', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run } = await store.createRun({ workflowId: wf.id });
      const [t] = await claimAll(store);
      const started = new Date(Date.now() - 1500);
      await store.finishTasks([
        { ...leaseOf(t!), startedAt: started, status: 'failed', error: 'x', retryAt: new Date(Date.now() + 60_000) },
      ]);
      // A retry scheduled: the run has started, nothing finished.
      expect(await store.getRun(run.id)).toMatchObject({ status: 'running', startedAt: started, tasksFinished: 0 });
      const again = await store.createRun({ workflowId: wf.id });
      const [u] = await claimAll(store);
      const s2 = new Date(Date.now() - 800);
      await store.finishTasks([{ ...leaseOf(u!), startedAt: s2, status: 'success', output: 1 }]);
      const done = await store.getRun(again.run.id);
      expect(done).toMatchObject({ status: 'success', startedAt: s2 });
      expect(done.durationMs).toBeGreaterThanOrEqual(800);
      expect(done.finishedAt!.getTime()).toBeGreaterThan(s2.getTime());
    });

    test('a claim with running: true leases the tasks running, started now, and starts their pending runs', async () => {
      const store = await open();
      const wf = await defineFanIn(store, 2);
      const { run } = await store.createRun({ workflowId: wf.id });
      const other = await store.createRun({ workflowId: wf.id });
      const before = Date.now();
      const claimed = await store.claimTasks({ workerId: 'w', limit: 3, leaseMs: 60_000, running: true });
      expect(claimed).toHaveLength(3);
      const started = await expectStartedByClaim(store, claimed, run.id, before);
      // Fenced like any lease: heartbeat, finish, and the run rolls up from its start.
      expect(await store.heartbeat(claimed.map(leaseOf), 60_000)).toEqual(['held', 'held', 'held']);
      const mine = claimed.filter((c) => c.run.id === run.id);
      await store.finishTasks(mine.map((c) => ({ ...leaseOf(c), status: 'success' as const, output: null })));
      const b = (await claimAll(store)).find((c) => c.run.id === run.id);
      expect(b!.task).toMatchObject({ stepName: 'b', status: 'dispatched', startedAt: null });
      await store.finishTasks([{ ...leaseOf(b!), status: 'success', output: null }]);
      const done = await store.getRun(run.id);
      expect(done).toMatchObject({ status: 'success', startedAt: started.startedAt });
      expect(done.durationMs).toBe(done.finishedAt!.getTime() - started.startedAt!.getTime());
      // The other run had one task claimed: it started too, and is still going.
      expect((await store.getRun(other.run.id)).status).toBe('running');
    });

    test('a bad start time is refused with a ValidationError before anything is written', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      await store.createRun({ workflowId: wf.id });
      const [t] = await claimAll(store);
      const bad = store.finishTasks([{ ...leaseOf(t!), startedAt: 'yesterday' as never, status: 'success', output: 1 }]);
      await expect(bad).rejects.toBeInstanceOf(ValidationError);
      await expect(bad).rejects.toBeInstanceOf(BatonError);
      expect((await store.getTask(t!.task.id)).status).toBe('dispatched');
    });
  });
}
