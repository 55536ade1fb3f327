import { describe, expect, it } from 'vitest';
import { cloudRunExecutor } from '../../src/cloud-run/index.js';
import { startFakeCloudRun } from '../../src/testing/index.js';
import { logsOf, startBaton, tasksOf } from '../baton.js';
import { waitFor } from '../helpers.js';

describe('cloud-run executor under the scheduler', () => {
  it('runs one execution per task, records execution names, and cancels with the run', async () => {
    const fake = await startFakeCloudRun({
      token: 't0k',
      jobs: { etl: { durationMs: 150, taskCount: 2 }, forever: { durationMs: 60_000 } },
    });
    try {
      const executor = cloudRunExecutor({ endpoint: fake.url, tokenProvider: async () => 't0k', pollIntervalMs: 25 });
      const { baton, store } = await startBaton([executor]);
      await baton.defineWorkflow({
        name: 'nightly',
        executor: 'cloud-run',
        steps: [{ name: 'etl', taskCount: 2, config: { project: 'acme', region: 'europe-west1', job: 'etl' } }],
      });
      const run = await baton.trigger('nightly');
      expect((await baton.waitForRun(run.id, { timeoutMs: 20_000 })).status).toBe('success');
      const tasks = await tasksOf(store, run.id);
      for (const task of tasks) {
        expect(task.executionName).toMatch(/^projects\/acme\/locations\/europe-west1\/jobs\/etl\/executions\/etl-\w+$/);
        expect(task.output).toMatchObject({ executionName: task.executionName, succeededCount: 2, failedCount: 0 });
        expect(fake.executions.get(task.executionName!)!.env.TASK_INDEX).toBe(String(task.taskIndex));
      }

      await baton.defineWorkflow({
        name: 'endless',
        executor: 'cloud-run',
        steps: [{ name: 'wait', config: { project: 'acme', region: 'europe-west1', job: 'forever' } }],
      });
      const endless = await baton.trigger('endless');
      let name: string | null = null;
      expect(await waitFor(async () => (name = (await tasksOf(store, endless.id))[0]!.executionName) !== null)).toBe(true);
      await baton.cancelRun(endless.id);
      expect(await waitFor(() => fake.executions.get(name!)!.cancelledAt !== null, 5000)).toBe(true);
      expect((await baton.waitForRun(endless.id)).status).toBe('cancelled');
      expect(await waitFor(async () => (await logsOf(store, endless.id)).includes(`warn: cancelled execution ${name}`), 5000)).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
