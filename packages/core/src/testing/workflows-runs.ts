import { expect } from 'vitest';
import { ConflictError, NotFoundError } from '../errors.js';
import { defineFanIn, defineWorkflow, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

export function workflowAndRunCases(factory: StoreFactory): void {
  suite(factory, 'workflows', (test, { open }) => {
    test('creates, finds, gets, updates and lists workflows', async () => {
      const store = await open();
      const wf = await store.createWorkflow({
        name: 'etl',
        description: 'nightly',
        executor: 'process',
        timeoutMs: 5000,
        retry: { maxAttempts: 4 },
        steps: [
          { name: 'a', taskCount: 2, config: { job: 'x.sh' } },
          { name: 'b', dependsOn: ['a'] },
        ],
        schedules: [{ cron: '0 * * * *' }],
        metadata: { team: 'data' },
      });
      expect(wf).toMatchObject({ name: 'etl', status: 'active', executor: 'process', timeoutMs: 5000, description: 'nightly' });
      expect(wf.steps[0]).toMatchObject({ name: 'a', taskCount: 2, config: { job: 'x.sh' } });
      expect((await store.getWorkflow(wf.id)).name).toBe('etl');
      expect((await store.findWorkflow('etl'))?.id).toBe(wf.id);
      expect(await store.findWorkflow('nope')).toBeNull();
      await new Promise((r) => setTimeout(r, 2));
      const updated = await store.updateWorkflow(wf.id, { status: 'paused', description: 'hourly' });
      expect(updated).toMatchObject({ status: 'paused', description: 'hourly', timeoutMs: 5000 });
      expect(updated.updatedAt.getTime()).toBeGreaterThan(wf.updatedAt.getTime());
      const other = await defineWorkflow(store);
      const listed = await store.listWorkflows();
      expect(listed.items.map((w) => w.id)).toEqual([wf.id, other.id]);
      expect((await store.listWorkflows({ status: 'paused' })).items.map((w) => w.id)).toEqual([wf.id]);
    });

    test('rejects a duplicate name, also through a rename', async () => {
      const store = await open();
      const a = await store.createWorkflow({ name: 'dup', steps: [{ name: 's' }] });
      await expect(store.createWorkflow({ name: 'dup', steps: [{ name: 's' }] })).rejects.toBeInstanceOf(ConflictError);
      const b = await store.createWorkflow({ name: 'other', steps: [{ name: 's' }] });
      await expect(store.updateWorkflow(b.id, { name: 'dup' })).rejects.toBeInstanceOf(ConflictError);
      expect((await store.getWorkflow(a.id)).name).toBe('dup');
      expect((await store.getWorkflow(b.id)).name).toBe('other');
    });

    test('unknown ids give NotFoundError', async () => {
      const store = await open();
      await expect(store.getWorkflow('missing')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.updateWorkflow('missing', { status: 'paused' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getRun('missing')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getTask('missing')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.cancelRun('missing')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.createRun({ workflowId: 'missing' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.retryRun('missing')).rejects.toBeInstanceOf(NotFoundError);
    });

    test('an id in another spelling, or not an id at all, names nothing: NotFoundError or an empty answer, never a store failure', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run } = await store.createRun({ workflowId: wf.id });
      // Something to find under each id, had a spelling matched: a task with an output, a log.
      const [claimed] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
      const task = claimed!.task;
      await store.finishTasks([{ taskId: task.id, leaseId: task.leaseId!, status: 'success', output: 'out' }]);
      await store.appendLogs([{ runId: run.id, taskId: task.id, type: 'info', content: 'here' }]);
      // PostgreSQL's uuid columns would read 'ABC…' as the row 'abc…' and fail on 'missing'; ids are exact strings everywhere.
      for (const id of [run.id.toUpperCase(), 'missing']) {
        await expect(store.getRun(id)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.cancelRun(id)).rejects.toBeInstanceOf(NotFoundError);
        expect((await store.listTasks({ runId: id })).items).toEqual([]);
        expect(await store.getStepOutputs(id, ['only'])).toEqual({ only: [] });
        expect((await store.listLogs(id)).items).toEqual([]);
      }
      for (const id of [wf.id.toUpperCase(), 'missing']) {
        await expect(store.getWorkflow(id)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.createRun({ workflowId: id })).rejects.toBeInstanceOf(NotFoundError);
        expect((await store.listRuns({ workflowId: id })).items).toEqual([]);
        expect((await store.countRuns({ workflowId: id })).pending).toBe(0);
      }
      await expect(store.getTask(task.id.toUpperCase())).rejects.toBeInstanceOf(NotFoundError);
      // The exact ids still find all of it.
      expect((await store.listRuns({ workflowId: wf.id })).items.map((r) => r.id)).toEqual([run.id]);
      expect((await store.countRuns({ workflowId: wf.id })).success).toBe(1);
      expect(await store.getStepOutputs(run.id, ['only'])).toEqual({ only: ['out'] });
      expect((await store.listLogs(run.id)).items.map((l) => l.content)).toEqual(['here']);
    });
  });

  suite(factory, 'runs', (test, { open }) => {
    test('creates a run with all its tasks, dependents waiting', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, {
        priority: 5,
        steps: [
          { name: 'a', taskCount: 3, params: { p: 1 } },
          { name: 'b', dependsOn: ['a'], paramsList: [{ q: 1 }, { q: 2 }] },
        ],
      });
      const { run, created } = await store.createRun({
        workflowId: wf.id,
        inputs: { day: 'mon' },
        triggeredBy: 'webhook',
        metadata: { m: 1 },
      });
      expect(created).toBe(true);
      expect(run).toMatchObject({
        status: 'pending',
        inputs: { day: 'mon' },
        triggeredBy: 'webhook',
        tasksTotal: 5,
        tasksFinished: 0,
        workflowName: wf.name,
      });
      const tasks = (await store.listTasks({ runId: run.id })).items;
      expect(tasks.map((t) => [t.stepName, t.taskIndex, t.taskCount, t.status])).toEqual([
        ['a', 0, 3, 'pending'],
        ['a', 1, 3, 'pending'],
        ['a', 2, 3, 'pending'],
        ['b', 0, 2, 'waiting'],
        ['b', 1, 2, 'waiting'],
      ]);
      expect(tasks[0]).toMatchObject({ params: { p: 1 }, priority: 5, attempt: 0, maxAttempts: 3, leaseId: null });
      expect(tasks[4]!.params).toEqual({ q: 2 });
      expect((await store.listTasks({ runId: run.id, stepName: 'b' })).items).toHaveLength(2);
      expect((await store.listTasks({ runId: run.id, status: 'waiting' })).items).toHaveLength(2);
    });

    test('an idempotency key returns the first run without new tasks; other workflows may reuse it', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 2 }] });
      const first = await store.createRun({ workflowId: wf.id, idempotencyKey: 'k1' });
      const second = await store.createRun({ workflowId: wf.id, idempotencyKey: 'k1', inputs: { other: true } });
      expect(second.created).toBe(false);
      expect(second.run.id).toBe(first.run.id);
      expect(second.run.inputs).toEqual({});
      expect((await store.listRuns({ workflowId: wf.id })).items).toHaveLength(1);
      const wf2 = await defineWorkflow(store);
      expect((await store.createRun({ workflowId: wf2.id, idempotencyKey: 'k1' })).created).toBe(true);
      const [a, b] = await Promise.all([
        store.createRun({ workflowId: wf.id, idempotencyKey: 'race' }),
        store.createRun({ workflowId: wf.id, idempotencyKey: 'race' }),
      ]);
      expect(a.run.id).toBe(b.run.id);
      expect([a.created, b.created].sort()).toEqual([false, true]);
    });

    test('draft and archived workflows cannot be triggered', async () => {
      const store = await open();
      const draft = await defineWorkflow(store, { status: 'draft' });
      const archived = await defineWorkflow(store, { status: 'archived' });
      await expect(store.createRun({ workflowId: draft.id })).rejects.toBeInstanceOf(ConflictError);
      await expect(store.createRun({ workflowId: archived.id })).rejects.toBeInstanceOf(ConflictError);
      expect((await store.listRuns({})).items).toHaveLength(0);
    });

    test('lists runs newest first, filtered, with stable pages', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const other = await defineWorkflow(store);
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) ids.push((await store.createRun({ workflowId: i % 5 === 0 ? other.id : wf.id })).run.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await store.listRuns({ limit: 10, cursor });
        seen.push(...page.items.map((r) => r.id));
        cursor = page.nextCursor;
        // A run created while paging lands before the first page, never inside the listing.
        if (seen.length === 10) await store.createRun({ workflowId: wf.id });
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
      const mine = await store.listRuns({ workflowId: other.id, limit: 100 });
      expect(mine.items).toHaveLength(5);
      expect(mine.nextCursor).toBeNull();
      const run = await store.getRun(ids[3]!);
      await store.cancelRun(run.id);
      expect((await store.listRuns({ status: 'cancelled' })).items.map((r) => r.id)).toEqual([run.id]);
    });

    test('cancels a run: waiting and pending tasks cancelled, leased ones learn of it, finished runs refuse', async () => {
      const store = await open();
      const wf = await defineFanIn(store, 3);
      const { run } = await store.createRun({ workflowId: wf.id });
      const [leased, retried] = await store.claimTasks({ workerId: 'w', limit: 2, leaseMs: 60_000 });
      const cancelled = await store.cancelRun(run.id, 'stop it');
      expect(cancelled).toMatchObject({ status: 'cancelled', error: 'stop it', tasksFinished: 2 });
      expect(cancelled.finishedAt).not.toBeNull();
      expect(await store.heartbeat([{ taskId: leased!.task.id, leaseId: leased!.task.leaseId! }], 60_000)).toEqual(['cancelled']);
      // A success and a retry alike end cancelled, with their end time (a retry's would otherwise be cleared).
      const result = await store.finishTasks([
        { taskId: leased!.task.id, leaseId: leased!.task.leaseId!, status: 'success', output: 1 },
        { taskId: retried!.task.id, leaseId: retried!.task.leaseId!, status: 'failed', error: 'flaky', retryAt: new Date() },
      ]);
      expect(result.outcomes.map((o) => [o.accepted, o.status])).toEqual([
        [true, 'cancelled'],
        [true, 'cancelled'],
      ]);
      expect(result.finishedRuns).toEqual([]);
      expect(result.readyTasks).toBe(0);
      const tasks = (await store.listTasks({ runId: run.id })).items;
      expect(tasks.every((t) => t.status === 'cancelled' && t.finishedAt !== null)).toBe(true);
      const after = await store.getRun(run.id);
      expect(after).toMatchObject({ status: 'cancelled', tasksFinished: 4, tasksFailed: 4 });
      await expect(store.cancelRun(run.id)).rejects.toBeInstanceOf(ConflictError);
      expect(await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 1000 })).toEqual([]);
    });
  });
}
