import { expect } from 'vitest';
import { RetryRefusedError } from '@baton/core';
import { eachStore, testBaton } from '../src/index.js';

eachStore('scheduler: retrying a finished run', ({ it, tempStore }) => {
  it('runs the failed fan-out tasks again on an idle worker, and the run succeeds', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { pollIntervalMs: 60_000 });
    let broken = true;
    const calls: string[] = [];
    await baton.defineWorkflow(
      {
        name: 'fan',
        retry: { maxAttempts: 1 },
        steps: [
          { name: 's', taskCount: 3 },
          { name: 'after', dependsOn: ['s'] },
        ],
      },
      {
        s: async (ctx) => {
          calls.push(`s${ctx.taskIndex}#${ctx.attempt}`);
          if (broken && ctx.taskIndex === 1) throw new Error('flaky disk');
          return ctx.taskIndex;
        },
        after: async () => {
          calls.push('after');
          return 'done';
        },
      },
    );
    const retried: string[] = [];
    baton.on('run:retried', (run) => retried.push(run.id));
    await baton.start();
    const run = await baton.trigger('fan');
    const failed = await baton.waitForRun(run.id);
    expect(failed.status).toBe('failed');
    expect(calls).not.toContain('after');

    broken = false;
    calls.length = 0;
    const again = await baton.retry(run.id);
    expect(again.status).toBe('running');
    expect(retried).toEqual([run.id]);
    // The worker is idle and its poll interval long (see testBaton): the retry wakes it.
    const done = await baton.waitForRun(run.id, { timeoutMs: 10_000 });
    expect(done).toMatchObject({ status: 'success', error: null, tasksFailed: 0, tasksFinished: 4 });
    // Only the failed task ran again, with a fresh first attempt, then its dependent.
    expect(calls).toEqual(['s1#1', 'after']);
    await expect(baton.retry(run.id)).rejects.toBeInstanceOf(RetryRefusedError);
    await baton.stop();
  });
});
