import { expect } from 'vitest';
import type { Store } from '@baton/core';
import { allTasks, eachStore, testBaton } from '../src/index.js';

/**
 * The real store, slow to finish (30 ms a write): endings pile up while a write is in
 * flight, then go in one write. `sizes` records how many endings each write carried.
 */
function slowToFinish(store: Store): { slow: Store; sizes: number[] } {
  const sizes: number[] = [];
  const slow: Store = Object.create(store);
  slow.finishTasks = async (results) => {
    sizes.push(results.length);
    await new Promise((r) => setTimeout(r, 30));
    return store.finishTasks(results);
  };
  return { slow, sizes };
}

eachStore('scheduler: runs end to end', ({ it, tempStore }) => {
  it('runs a 1,000-task fan-out, each task exactly once, and the run ends success with its duration', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { concurrency: 50 });
    const executed = new Map<number, number>();
    await baton.defineWorkflow(
      { name: 'fanout', steps: [{ name: 'work', taskCount: 1000 }] },
      {
        work: async (ctx) => {
          executed.set(ctx.taskIndex, (executed.get(ctx.taskIndex) ?? 0) + 1);
          return ctx.taskIndex * 2;
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('fanout');
    const done = await baton.waitForRun(run.id, { timeoutMs: 60_000 });
    expect(done.status).toBe('success');
    expect(done.tasksFinished).toBe(1000);
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
    expect(executed.size).toBe(1000);
    expect([...executed.values()].every((n) => n === 1)).toBe(true);
    const tasks = await allTasks(store, run.id);
    expect(tasks.every((t) => t.status === 'success' && t.attempt === 1)).toBe(true);
    expect(tasks[7]!.output).toBe(14);
  });

  it('frees a slot as soon as the handler returns, but never holds more than 2 × concurrency leases while endings wait to be written', async () => {
    const { store } = await tempStore();
    // The real store, made slow to finish: endings pile up faster than they are written.
    let leased = 0;
    let maxLeased = 0;
    let maxExecuting = 0;
    let executing = 0;
    const slow: typeof store = Object.create(store);
    slow.claimTasks = async (o) => {
      const claimed = await store.claimTasks(o);
      leased += claimed.length;
      maxLeased = Math.max(maxLeased, leased);
      return claimed;
    };
    slow.finishTasks = async (results) => {
      await new Promise((r) => setTimeout(r, 40));
      const out = await store.finishTasks(results);
      leased -= out.outcomes.filter((o) => o.accepted).length;
      return out;
    };
    const baton = testBaton(slow, { concurrency: 10 });
    await baton.defineWorkflow(
      { name: 'backlog', steps: [{ name: 'work', taskCount: 300 }] },
      {
        work: async () => {
          maxExecuting = Math.max(maxExecuting, ++executing);
          await new Promise((r) => setImmediate(r));
          executing--;
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('backlog');
    expect((await baton.waitForRun(run.id, { timeoutMs: 60_000 })).status).toBe('success');
    expect(maxExecuting).toBeLessThanOrEqual(10);
    expect(maxLeased).toBeLessThanOrEqual(20);
    // Slots did free up before endings were written: more than `concurrency` were leased at once.
    expect(maxLeased).toBeGreaterThan(10);
  });

  it('writes endings in batches of up to concurrency (past the floor of 100), never more', async () => {
    const { slow, sizes } = slowToFinish((await tempStore()).store);
    const baton = testBaton(slow, { concurrency: 300 });
    await baton.defineWorkflow({ name: 'wide', steps: [{ name: 'work', taskCount: 1200 }] }, { work: async () => null });
    await baton.start();
    const run = await baton.trigger('wide');
    expect((await baton.waitForRun(run.id, { timeoutMs: 60_000 })).status).toBe('success');
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1200);
    expect(Math.max(...sizes)).toBeGreaterThan(100);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(300);
  });

  it('writes endings at most 1,000 at a time, whatever the concurrency', async () => {
    const { slow, sizes } = slowToFinish((await tempStore()).store);
    // A long lease: on the file store, heartbeating 1,500 leases and writing 1,000 endings outlast
    // the suite's 2 s lease, and expired tasks would run twice (at least once, as promised).
    const baton = testBaton(slow, { concurrency: 1500, leaseMs: 30_000 });
    await baton.defineWorkflow({ name: 'wider', steps: [{ name: 'work', taskCount: 2500 }] }, { work: async () => null });
    await baton.start();
    const run = await baton.trigger('wider');
    expect((await baton.waitForRun(run.id, { timeoutMs: 120_000 })).status).toBe('success');
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2500);
    expect(Math.max(...sizes)).toBeGreaterThan(300);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
  }, 120_000);

  it('passes inputs, params, fan-out params and upstream outputs to handlers and keeps logs in order', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    await baton.defineWorkflow(
      {
        name: 'dag',
        steps: [
          { name: 'split', paramsList: [{ part: 'a' }, { part: 'b' }], params: { shared: 1 } },
          { name: 'join', dependsOn: ['split'] },
        ],
      },
      {
        split: async (ctx) => {
          for (let i = 0; i < 5; i++) ctx.log(`${ctx.params.part} line ${i}`);
          return `${ctx.params.part}${ctx.params.shared}${ctx.inputs.suffix}`;
        },
        join: async (ctx) => {
          ctx.json({ got: ctx.upstream.split });
          return (ctx.upstream.split as string[]).join('+');
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('dag', { inputs: { suffix: '!' } });
    expect((await baton.waitForRun(run.id)).status).toBe('success');
    const join = (await allTasks(store, run.id)).find((t) => t.stepName === 'join')!;
    expect(join.output).toBe('a1!+b1!');
    const logs = (await store.listLogs(run.id, { limit: 100 })).items;
    const aLines = logs.filter((l) => l.content.startsWith('a line')).map((l) => l.content);
    expect(aLines).toEqual([0, 1, 2, 3, 4].map((i) => `a line ${i}`));
    expect(logs.at(-1)!.type).toBe('json');
  });

  it('returns the same run for a repeated idempotency key', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    await baton.defineWorkflow({ name: 'once', steps: [{ name: 's' }] }, { s: async () => 1 });
    const a = await baton.trigger('once', { idempotencyKey: 'order-42' });
    const b = await baton.trigger('once', { idempotencyKey: 'order-42' });
    expect(b.id).toBe(a.id);
    expect((await store.listRuns({})).items).toHaveLength(1);
  });

  it('records a handler error with its message and stack, and a non-JSON return as a failure', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    await baton.defineWorkflow(
      { name: 'bad', retry: { maxAttempts: 1 }, steps: [{ name: 'throws' }, { name: 'date' }] },
      {
        throws: async () => {
          throw new TypeError('wrong shape of thing');
        },
        date: async () => new Date() as never,
      },
    );
    await baton.start();
    const run = await baton.trigger('bad');
    const done = await baton.waitForRun(run.id);
    expect(done.status).toBe('failed');
    const tasks = await allTasks(store, run.id);
    const throws = tasks.find((t) => t.stepName === 'throws')!;
    expect(throws.error).toContain('TypeError: wrong shape of thing');
    expect(throws.error).toContain('run-lifecycle.test.ts');
    expect(tasks.find((t) => t.stepName === 'date')!.error).toContain('not JSON');
  });
});
