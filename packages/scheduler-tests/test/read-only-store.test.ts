import type { ReadOnlyStore } from '@baton/core';
import { expect } from 'vitest';
import { eachStore, testBaton } from '../src/index.js';

// Every write a Store has: none may be reachable from a handler, by type or at run time.
const WRITES = [
  'createWorkflow',
  'updateWorkflow',
  'createRun',
  'createRuns',
  'cancelRun',
  'retryRun',
  'claimTasks',
  'markRunning',
  'heartbeat',
  'finishTasks',
  'releaseTasks',
  'recoverExpiredLeases',
  'appendLogs',
  'createBlock',
  'updateBlock',
  'deleteBlock',
  'createPayload',
  'updatePayload',
  'deletePayload',
  'setConfig',
  'deleteConfig',
  'registerSession',
  'heartbeatSession',
  'endSession',
  'expireSessions',
  'recordToolExecution',
  'finishToolExecution',
  'migrate',
  'close',
];

// Type level: these lines fail `pnpm typecheck` if ReadOnlyStore ever gains a write.
function typeChecks(store: ReadOnlyStore) {
  // @ts-expect-error claiming belongs to the scheduler
  void store.claimTasks;
  // @ts-expect-error finishing belongs to the scheduler
  void store.finishTasks;
  // @ts-expect-error closing belongs to the host
  void store.close;
  // @ts-expect-error writes inside a transaction too
  void store.transaction(async (tx) => tx.createRun);
}
void typeChecks;

eachStore('handlers get a read-only view of the store in ctx.store', ({ it, tempStore }) => {
  it('reads work, in and out of a transaction; no write, claim, finish or close exists on it, even through a cast', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    const seen: Record<string, unknown> = {};
    await baton.defineWorkflow(
      { name: 'peek', steps: [{ name: 's' }] },
      {
        s: async (ctx) => {
          const view = ctx.store as unknown as Record<string, unknown>;
          seen.writes = WRITES.filter((name) => name in view);
          seen.run = (await ctx.store.getRun(ctx.run.id)).id;
          seen.inTx = await ctx.store.transaction(async (tx) => ({
            task: (await tx.getTask(ctx.task.id)).id,
            writes: WRITES.filter((name) => name in (tx as unknown as Record<string, unknown>)),
          }));
          seen.kind = ctx.store.kind;
          try {
            (ctx.store as unknown as { finishTasks: () => Promise<unknown> }).finishTasks();
          } catch (error) {
            seen.call = (error as Error).constructor.name;
          }
          try {
            view.close = () => 'replaced';
          } catch (error) {
            seen.assign = (error as Error).constructor.name;
          }
          return 'ok';
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('peek');
    expect((await baton.waitForRun(run.id)).status).toBe('success');
    const [task] = (await store.listTasks({ runId: run.id })).items;
    expect(seen).toEqual({
      writes: [],
      run: run.id,
      inTx: { task: task!.id, writes: [] },
      kind: store.kind,
      call: 'TypeError',
      assign: 'TypeError',
    });
    // The store itself is untouched: the host still writes through it.
    expect(typeof store.claimTasks).toBe('function');
  });
});
