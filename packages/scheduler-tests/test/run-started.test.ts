import { expect } from 'vitest';
import type { Baton, TaskHandler, WorkflowDefinition } from '@baton/core';
import { eachStore, onCleanup, sleep, testBaton, until } from '../src/index.js';
import { openSpec } from '../src/stores.js';

/** Records every run:started a Baton emits. */
function startsOf(baton: Baton): string[] {
  const seen: string[] = [];
  baton.on('run:started', ({ runId }) => seen.push(runId));
  return seen;
}

/** A second handle on the same data: another worker, as another process would be (closed before the data is removed). */
async function secondHandle(spec: string) {
  const store = await openSpec(spec);
  onCleanup(() => store.close());
  return store;
}

const count = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());

eachStore('scheduler: run:started comes from the store, once per run', ({ it, tempStore }) => {
  it('two workers taking the tasks of fanned-out runs (with retries) emit run:started once per run between them', async () => {
    const { store, spec } = await tempStore();
    const a = testBaton(store, { concurrency: 3 });
    const b = testBaton(await secondHandle(spec), { concurrency: 3 });
    const definition: WorkflowDefinition = {
      name: 'fan',
      retry: { maxAttempts: 2, initialDelayMs: 20, jitter: 0 },
      steps: [{ name: 'split', taskCount: 12 }, { name: 'side' }, { name: 'join', dependsOn: ['split', 'side'] }],
    };
    // Which worker ran each run's tasks: the case is only worth something when both took tasks of one run.
    const ranBy = new Map<string, Set<string>>();
    const retried = new Set<string>();
    const handlers = (who: string) => {
      const work: TaskHandler = async (ctx) => {
        (ranBy.get(ctx.run.id) ?? ranBy.set(ctx.run.id, new Set()).get(ctx.run.id)!).add(who);
        await sleep(10);
        // The first task of each run fails once: its retry is claimed again, and must not start the run again.
        if (ctx.task.stepName === 'split' && ctx.taskIndex === 0 && ctx.attempt === 1) {
          retried.add(ctx.run.id);
          throw new Error('first attempt fails');
        }
      };
      return { split: work, side: work, join: work };
    };
    await a.defineWorkflow(definition, handlers('a'));
    await b.defineWorkflow(definition, handlers('b'));
    const started = [...[a, b].map(startsOf)];
    await a.start();
    await b.start();
    const runs = await a.triggerMany(
      'fan',
      Array.from({ length: 8 }, () => ({})),
    );
    for (const run of runs) expect((await a.waitForRun(run.id, { timeoutMs: 30_000 })).status).toBe('success');

    const all = started.flat();
    expect(all).toHaveLength(runs.length);
    expect(count(all)).toEqual(new Map(runs.map((r) => [r.id, 1])));
    expect([...ranBy.keys()].sort()).toEqual(runs.map((r) => r.id).sort());
    expect([...ranBy.values()].some((workers) => workers.size === 2)).toBe(true);
    expect(retried.size).toBe(runs.length);
  });

  it('a task released by a stopping worker and run by another does not start its run again', async () => {
    const { store, spec } = await tempStore();
    const a = testBaton(store, { shutdownGraceMs: 0, abortGraceMs: 50 });
    const b = testBaton(await secondHandle(spec));
    const definition: WorkflowDefinition = { name: 'long', steps: [{ name: 'only' }] };
    let runningOnA = false;
    await a.defineWorkflow(definition, {
      only: async (ctx) => {
        runningOnA = true;
        // Runs until its worker stops: the abort (ShutdownError) releases the task, attempt not charged.
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
      },
    });
    const onB: number[] = [];
    await b.defineWorkflow(definition, { only: async (ctx) => void onB.push(ctx.attempt) });
    const [startedA, startedB] = [startsOf(a), startsOf(b)];
    await a.start();
    const run = await a.trigger('long');
    await until(() => runningOnA, 10_000, 'the task to run on worker a');
    // Its run is marked started a moment after the task starts (RunStarts): wait for that, so a started it.
    await until(async () => (await store.getRun(run.id)).status === 'running', 10_000, 'the run to be marked running');
    await a.stop();
    await b.start();
    expect((await b.waitForRun(run.id, { timeoutMs: 10_000 })).status).toBe('success');
    // Released, not charged: b ran it as attempt 1 again, which is why a guess from the attempt number said "started" twice.
    expect(onB).toEqual([1]);
    expect(startedA).toEqual([run.id]);
    expect(startedB).toEqual([]);
  });

  it('with claims that do not start runs, the "running" mark that does says so: run:started once per run', async () => {
    const { store } = await tempStore();
    // A claim without `running` (as a host driving its own executors might make): runs start at the mark.
    const marking: typeof store = Object.create(store);
    marking.claimTasks = async (o) => store.claimTasks({ ...o, running: false });
    const baton = testBaton(marking, { concurrency: 4 });
    await baton.defineWorkflow(
      { name: 'marked', steps: [{ name: 'fan', taskCount: 6 }] },
      {
        // Awaiting the mark makes sure it is written before the task ends (an end first would withdraw it).
        fan: async (ctx) => void (await ctx.started(`exec-${ctx.taskIndex}`)),
      },
    );
    const started = startsOf(baton);
    await baton.start();
    const runs = await baton.triggerMany('marked', [{}, {}, {}]);
    for (const run of runs) expect((await baton.waitForRun(run.id)).status).toBe('success');
    expect(count(started)).toEqual(new Map(runs.map((r) => [r.id, 1])));
  });

  it('runs whose only task ends before its run is marked started: run:started once each, from the ending, before run:finished', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { concurrency: 20 });
    await baton.defineWorkflow({ name: 'quick', steps: [{ name: 'only' }] }, { only: async () => null });
    const events: string[] = [];
    baton.on('run:started', ({ runId, workflowName }) => events.push(`started ${runId} ${workflowName}`));
    baton.on('run:finished', ({ runId, status }) => events.push(`finished ${runId} ${status}`));
    await baton.start();
    const runs = await baton.triggerMany(
      'quick',
      Array.from({ length: 30 }, () => ({})),
    );
    for (const run of runs) {
      const done = await baton.waitForRun(run.id);
      expect(done.status).toBe('success');
      expect(done.startedAt).not.toBeNull();
      expect(done.startedAt!.getTime()).toBeLessThanOrEqual(done.finishedAt!.getTime());
    }
    await until(() => events.length === 2 * runs.length, 5000, 'every run:finished');
    for (const run of runs) {
      const mine = events.filter((e) => e.includes(run.id));
      expect(mine).toEqual([`started ${run.id} quick`, `finished ${run.id} success`]);
    }
  });

  it('a retried run that had started does not start again', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    let broken = true;
    await baton.defineWorkflow(
      { name: 'once', retry: { maxAttempts: 1 }, steps: [{ name: 'only' }] },
      {
        only: async () => {
          if (broken) throw new Error('broken');
        },
      },
    );
    const started = startsOf(baton);
    await baton.start();
    const run = await baton.trigger('once');
    expect((await baton.waitForRun(run.id)).status).toBe('failed');
    broken = false;
    await baton.retry(run.id);
    expect((await baton.waitForRun(run.id)).status).toBe('success');
    expect(started).toEqual([run.id]);
  });
});
