import { expect } from 'vitest';
import { allTasks, eachStore, sleep, testBaton, until } from '../src/index.js';

eachStore('scheduler: retries, timeouts, cancellation, pausing, failure propagation', ({ it, tempStore }) => {
  it('retries a failed attempt after its backoff until it succeeds', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    const attempts: { attempt: number; at: number }[] = [];
    const retrying: Date[] = [];
    baton.on('task:retrying', (e) => retrying.push(e.retryAt));
    await baton.defineWorkflow(
      { name: 'flaky', retry: { maxAttempts: 3, initialDelayMs: 200, backoffFactor: 2, jitter: 0 }, steps: [{ name: 's' }] },
      {
        s: async (ctx) => {
          attempts.push({ attempt: ctx.attempt, at: Date.now() });
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
          return 'ok';
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('flaky');
    const done = await baton.waitForRun(run.id);
    expect(done.status).toBe('success');
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // Backoff: 200 ms, then 400 ms (no jitter).
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(190);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(390);
    expect(retrying).toHaveLength(2);
  });

  it('fails the run once attempts run out, keeping the last error', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    await baton.defineWorkflow(
      { name: 'doomed', retry: { maxAttempts: 2, initialDelayMs: 10 }, steps: [{ name: 's' }] },
      {
        s: async (ctx) => {
          throw new Error(`nope ${ctx.attempt}`);
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('doomed');
    const done = await baton.waitForRun(run.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('nope 2');
    const [task] = await allTasks(store, run.id);
    expect(task!.status).toBe('failed');
    expect(task!.attempt).toBe(2);
  });

  it('aborts an attempt past its timeout and ends the task and run as timeout', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    let sawAbort = false;
    await baton.defineWorkflow(
      { name: 'slow', timeoutMs: 150, retry: { maxAttempts: 1 }, steps: [{ name: 's' }] },
      {
        s: async (ctx) =>
          new Promise((_, reject) => {
            ctx.signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(ctx.signal.reason);
            });
          }),
      },
    );
    await baton.start();
    const run = await baton.trigger('slow');
    const done = await baton.waitForRun(run.id);
    expect(done.status).toBe('timeout');
    expect(sawAbort).toBe(true);
    const [task] = await allTasks(store, run.id);
    expect(task!.status).toBe('timeout');
    expect(task!.error).toContain('timed out after 150 ms');
  });

  it('ends a handler that ignores its signal as timeout too', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { abortGraceMs: 100 });
    await baton.defineWorkflow(
      { name: 'stubborn', timeoutMs: 100, retry: { maxAttempts: 1 }, steps: [{ name: 's' }] },
      {
        s: () => new Promise((resolve) => setTimeout(() => resolve('late'), 3000)),
      },
    );
    await baton.start();
    const run = await baton.trigger('stubborn');
    expect((await baton.waitForRun(run.id, { timeoutMs: 2000 })).status).toBe('timeout');
  });

  it('cancels a running run: pending tasks end cancelled, running handlers see their signal abort', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { concurrency: 2 });
    let aborted = 0;
    await baton.defineWorkflow(
      { name: 'long', steps: [{ name: 's', taskCount: 6 }] },
      {
        s: (ctx) =>
          new Promise((_, reject) => {
            ctx.signal.addEventListener('abort', () => {
              aborted++;
              reject(ctx.signal.reason);
            });
          }),
      },
    );
    await baton.start();
    const run = await baton.trigger('long');
    await until(async () => (await store.listTasks({ runId: run.id, status: 'running' })).items.length === 2, 5000, 'two running tasks');
    const cancelled = await baton.cancelRun(run.id, 'operator said stop');
    expect(cancelled.status).toBe('cancelled');
    await until(async () => (await allTasks(store, run.id)).every((t) => t.status === 'cancelled'), 5000, 'every task cancelled');
    expect(aborted).toBe(2);
    const final = await store.getRun(run.id);
    expect(final.status).toBe('cancelled');
    expect(final.tasksFinished).toBe(6);
  });

  it('keeps the pending tasks of a paused workflow until it is resumed', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    let ran = 0;
    await baton.defineWorkflow({ name: 'pausable', steps: [{ name: 's', taskCount: 3 }] }, { s: async () => void ran++ });
    await baton.pauseWorkflow('pausable');
    await baton.start();
    const run = await baton.trigger('pausable');
    await sleep(400);
    expect(ran).toBe(0);
    expect((await store.listTasks({ runId: run.id, status: 'pending' })).items).toHaveLength(3);
    await baton.resumeWorkflow('pausable');
    expect((await baton.waitForRun(run.id)).status).toBe('success');
    expect(ran).toBe(3);
  });

  it('cannot trigger an archived workflow', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    await baton.defineWorkflow({ name: 'old', steps: [{ name: 's' }] }, { s: async () => 1 });
    await baton.archiveWorkflow('old');
    await expect(baton.trigger('old')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await store.listRuns({})).items).toHaveLength(0);
  });

  it('in a DAG, a failure cancels the downstream tasks while an independent branch completes', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    const ran: string[] = [];
    await baton.defineWorkflow(
      {
        name: 'dag-fail',
        retry: { maxAttempts: 1 },
        steps: [
          { name: 'extract' },
          { name: 'transform', dependsOn: ['extract'] },
          { name: 'load', dependsOn: ['transform'] },
          { name: 'audit' },
          { name: 'report', dependsOn: ['audit'] },
        ],
      },
      {
        extract: async () => void ran.push('extract'),
        transform: async () => {
          ran.push('transform');
          throw new Error('bad data');
        },
        load: async () => void ran.push('load'),
        audit: async () => void ran.push('audit'),
        report: async () => void ran.push('report'),
      },
    );
    await baton.start();
    const run = await baton.trigger('dag-fail');
    const done = await baton.waitForRun(run.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('transform');
    const byStep = Object.fromEntries((await allTasks(store, run.id)).map((t) => [t.stepName, t.status]));
    expect(byStep).toEqual({ extract: 'success', transform: 'failed', load: 'cancelled', audit: 'success', report: 'success' });
    expect(ran).not.toContain('load');
  });
});
