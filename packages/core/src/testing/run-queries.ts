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

    test('listRuns by workflow alone pages newest first across every run status, leaving other workflows out', async () => {
      const store = await open();
      const a = await defineWorkflow(store);
      const b = await defineWorkflow(store);
      const runOf = async (wf: { id: string }, triggeredBy: 'api' | 'user' = 'api') =>
        (await store.createRun({ workflowId: wf.id, triggeredBy })).run;
      const a0 = await runOf(a);
      await runOf(b);
      const a1 = await runOf(a);
      const a2 = await runOf(a);
      await runOf(b);
      const a3 = await runOf(a, 'user');
      const a4 = await runOf(a);
      await store.cancelRun(a1.id);
      const claimed = await store.claimTasks({ workerId: 'w', limit: 50, leaseMs: 60_000, running: true });
      const end = { [a0.id]: 'success', [a2.id]: 'failed', [a3.id]: 'timeout' } as const;
      await store.finishTasks(
        claimed.flatMap((c) => {
          if (c.task.runId === a4.id) return [];
          const status = end[c.task.runId] ?? 'success';
          return [status === 'success' ? { ...leaseOf(c), status, output: null } : { ...leaseOf(c), status, error: status }];
        }),
      );
      const a5 = await runOf(a);
      const statuses = await Promise.all([a0, a1, a2, a3, a4, a5].map(async (r) => (await store.getRun(r.id)).status));
      // One run of `a` in each status, so a status left out of the listing would show.
      expect(statuses).toEqual(['success', 'cancelled', 'failed', 'timeout', 'running', 'pending']);
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listRuns({ workflowId: a.id, limit: 2, ...(cursor && { cursor }) });
        pages.push(page.items.map((r) => r.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(pages).toEqual([
        [a5.id, a4.id],
        [a3.id, a2.id],
        [a1.id, a0.id],
      ]);
      expect((await store.listRuns({ workflowId: a.id, triggeredBy: 'user' })).items.map((r) => r.id)).toEqual([a3.id]);
      expect((await store.listRuns({ workflowId: a.id, status: 'failed' })).items.map((r) => r.id)).toEqual([a2.id]);
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
