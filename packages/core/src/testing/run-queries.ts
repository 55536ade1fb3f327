import { expect } from 'vitest';
import { claimAll, defineWorkflow, leaseOf, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

export function runQueryCases(factory: StoreFactory): void {
  suite(factory, 'run queries', (test, { open }) => {
    test('listRuns filters by trigger, alone and with workflow and status, paging newest first', async () => {
      const store = await open();
      const a = await defineWorkflow(store);
      const b = await defineWorkflow(store);
      const made = [];
      for (const [wf, triggeredBy] of [
        [a, 'user'],
        [a, 'schedule'],
        [b, 'user'],
        [a, 'user'],
        [a, 'user'],
      ] as const) {
        made.push((await store.createRun({ workflowId: wf.id, triggeredBy })).run);
      }
      const users = (await store.listRuns({ triggeredBy: 'user' })).items.map((r) => r.id);
      expect(users).toEqual([made[4]!.id, made[3]!.id, made[2]!.id, made[0]!.id]);
      const first = await store.listRuns({ workflowId: a.id, triggeredBy: 'user', status: 'pending', limit: 2 });
      expect(first.items.map((r) => r.id)).toEqual([made[4]!.id, made[3]!.id]);
      const second = await store.listRuns({ workflowId: a.id, triggeredBy: 'user', status: 'pending', limit: 2, cursor: first.nextCursor });
      expect(second.items.map((r) => r.id)).toEqual([made[0]!.id]);
      expect(second.nextCursor).toBeNull();
      expect((await store.listRuns({ triggeredBy: 'webhook' })).items).toEqual([]);
    });

    test('countRuns counts a workflow’s runs (or all) by status, every status present', async () => {
      const store = await open();
      const a = await defineWorkflow(store);
      const b = await defineWorkflow(store);
      const r1 = (await store.createRun({ workflowId: a.id })).run;
      await store.createRun({ workflowId: a.id });
      await store.createRun({ workflowId: b.id });
      await store.cancelRun(r1.id);
      const claimed = await claimAll(store);
      await store.finishTasks(
        claimed.filter((c) => c.task.workflowId === b.id).map((c) => ({ ...leaseOf(c), status: 'success' as const, output: null })),
      );
      const zero = { pending: 0, running: 0, success: 0, failed: 0, cancelled: 0, timeout: 0 };
      expect(await store.countRuns({ workflowId: a.id })).toEqual({ ...zero, pending: 1, cancelled: 1 });
      expect(await store.countRuns({ workflowId: b.id })).toEqual({ ...zero, success: 1 });
      expect(await store.countRuns()).toEqual({ ...zero, pending: 1, cancelled: 1, success: 1 });
    });
  });
}
