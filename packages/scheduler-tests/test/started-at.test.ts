import { expect } from 'vitest';
import { eachStore, sleep, testBaton } from '../src/index.js';

eachStore('scheduler: when attempts and runs start', ({ it, tempStore }) => {
  it("a task's startedAt is when its handler was called, not when the batched running mark was written", async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { concurrency: 4 });
    const calledAt = new Map<number, number>();
    await baton.defineWorkflow(
      { name: 'slowish', steps: [{ name: 'work', taskCount: 4 }] },
      {
        work: async (ctx) => {
          calledAt.set(ctx.taskIndex, Date.now());
          // Long enough for the "running" mark (batched, 10 ms) to be written while the handler runs.
          await sleep(60);
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('slowish');
    const done = await baton.waitForRun(run.id);
    expect(done.status).toBe('success');
    const tasks = (await store.listTasks({ runId: run.id })).items;
    for (const task of tasks) {
      const called = calledAt.get(task.taskIndex)!;
      expect(task.startedAt!.getTime()).toBeLessThanOrEqual(called);
      expect(task.startedAt!.getTime()).toBeGreaterThanOrEqual(task.dispatchedAt!.getTime());
    }
    const first = Math.min(...tasks.map((t) => t.startedAt!.getTime()));
    expect(done.startedAt!.getTime()).toBe(first);
  });

  it('a run whose only attempt ends quickly goes running at the attempt start: its duration covers the attempt', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    let calledAt = 0;
    await baton.defineWorkflow(
      { name: 'quick', steps: [{ name: 'only' }] },
      {
        only: async () => {
          calledAt = Date.now();
          // Ends before the batched "running" mark is written (10 ms): the mark is dropped.
          await sleep(6);
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('quick');
    const done = await baton.waitForRun(run.id);
    const task = (await store.listTasks({ runId: run.id })).items[0]!;
    expect(done.status).toBe('success');
    expect(done.startedAt!.getTime()).toBeLessThanOrEqual(calledAt);
    expect(done.startedAt!.getTime()).toBe(task.startedAt!.getTime());
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(calledAt + 6);
    expect(done.durationMs).toBe(done.finishedAt!.getTime() - done.startedAt!.getTime());
    expect(done.durationMs).toBeGreaterThanOrEqual(6);
  });

  it('a run is running while its first attempt runs', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calledAt = 0;
    await baton.defineWorkflow(
      { name: 'held', steps: [{ name: 'only' }] },
      {
        only: async () => {
          calledAt = Date.now();
          await gate;
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('held');
    const deadline = Date.now() + 10_000;
    let seen = await store.getRun(run.id);
    while (seen.status !== 'running' && Date.now() < deadline) {
      await sleep(5);
      seen = await store.getRun(run.id);
    }
    expect(seen.status).toBe('running');
    expect(seen.startedAt!.getTime()).toBeLessThanOrEqual(calledAt);
    release();
    const done = await baton.waitForRun(run.id);
    expect(done.startedAt).toEqual(seen.startedAt);
  });
});
