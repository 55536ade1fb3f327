import { expect } from 'vitest';
import { eachStore, sleep, testBaton } from '../src/index.js';

/** Counts a handler's tasks running at once, and the most ever seen. */
function gauge() {
  const g = { now: 0, most: 0, peers: [] as number[] };
  return {
    g,
    /** Runs for `ms`, noting what `other` was running when this task started. */
    task: (ms: number, other?: { now: number }) => async () => {
      g.now++;
      g.most = Math.max(g.most, g.now);
      if (other) g.peers.push(other.now);
      await sleep(ms);
      g.now--;
      return null;
    },
  };
}

eachStore('scheduler: per-process concurrency limits (a number on a workflow or step)', ({ it, tempStore }) => {
  it("a workflow's number caps its tasks running at once on a process; other workflows' tasks run beside them", async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { concurrency: 10 });
    const capped = gauge();
    const free = gauge();
    await baton.defineWorkflow({ name: 'capped', concurrency: 2, steps: [{ name: 's', taskCount: 8 }] }, { s: capped.task(40) });
    await baton.defineWorkflow({ name: 'free', steps: [{ name: 's', taskCount: 6 }] }, { s: free.task(500, capped.g) });
    const runs = [await baton.trigger('capped'), await baton.trigger('free')];
    await baton.start();
    for (const run of runs) expect((await baton.waitForRun(run.id, { timeoutMs: 20_000 })).status).toBe('success');
    // Reached, never passed: 8 tasks of 40 ms with 10 slots would run all at once without the cap.
    expect(capped.g.most).toBe(2);
    // The capped workflow saturated did not hold the other back: its 6 tasks (500 ms each, so
    // they overlap whatever the claims' timing) ran together, two of them beside 2 capped ones.
    expect(free.g.most).toBe(6);
    expect(free.g.peers.some((n) => n === 2)).toBe(true);
  });

  it("a step's number caps that step alone, across runs; the workflow's other step runs beside it", async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { concurrency: 10 });
    const one = gauge();
    const many = gauge();
    await baton.defineWorkflow(
      {
        name: 'mixed',
        steps: [
          { name: 'one', taskCount: 4, concurrency: 1 },
          { name: 'many', taskCount: 4 },
        ],
      },
      { one: one.task(40), many: many.task(500, one.g) },
    );
    const runs = [await baton.trigger('mixed'), await baton.trigger('mixed')];
    await baton.start();
    for (const run of runs) expect((await baton.waitForRun(run.id, { timeoutMs: 20_000 })).status).toBe('success');
    // The cap is the step's on this process, across runs: 8 tasks, one at a time.
    expect(one.g.most).toBe(1);
    // All eight of the other step at once (500 ms each): the first claim (10 slots, in claim
    // order) holds run 1's four and releases the capped step's extra tasks, which a release
    // makes due now, behind the tasks not yet claimed; the next claim takes run 2's four.
    expect(many.g.most).toBe(8);
    expect(many.g.peers.some((n) => n === 1)).toBe(true);
  });
});
