import { describe, expect, it } from 'vitest';
import { processExecutor, RESULT_MARKER } from '../../src/process/index.js';
import { logsOf, startBaton, tasksOf } from '../baton.js';
import { alive, waitFor } from '../helpers.js';

describe('process executor under the scheduler', () => {
  it('runs a fanned-out step, recording pids, outputs and streamed logs', async () => {
    const { baton, store } = await startBaton([processExecutor()]);
    await baton.defineWorkflow({
      name: 'fan-out',
      executor: 'process',
      steps: [
        {
          name: 'work',
          taskCount: 3,
          params: { scale: 10 },
          config: {
            command: process.execPath,
            args: [
              '-e',
              `const i = Number(process.env.TASK_INDEX); console.log('task ' + i); console.log('${RESULT_MARKER} ' + JSON.stringify({ value: i * JSON.parse(process.env.BATON_PARAMS).scale }));`,
            ],
          },
        },
      ],
    });
    const run = await baton.trigger('fan-out');
    expect((await baton.waitForRun(run.id, { timeoutMs: 20_000 })).status).toBe('success');
    const tasks = await tasksOf(store, run.id);
    expect(tasks.map((t) => t.output)).toEqual([{ value: 0 }, { value: 10 }, { value: 20 }]);
    for (const task of tasks) expect(task.executionName).toMatch(/^\d+$/);
    expect(await logsOf(store, run.id)).toEqual(expect.arrayContaining(['log: task 0', 'log: task 1', 'log: task 2']));
  });

  it('fails the run with the stderr tail, and kills the process group when the run is cancelled', async () => {
    const { baton, store } = await startBaton([processExecutor({ graceMs: 200 })]);
    await baton.defineWorkflow({
      name: 'bad',
      executor: 'process',
      retry: { maxAttempts: 1 },
      steps: [{ name: 'boom', config: { command: 'sh', args: ['-c', 'echo "disk full" >&2; exit 4'] } }],
    });
    const failed = await baton.waitForRun((await baton.trigger('bad')).id, { timeoutMs: 20_000 });
    expect(failed.status).toBe('failed');
    expect((await tasksOf(store, failed.id))[0]!.error).toMatch(/sh exited with code 4: disk full/);

    await baton.defineWorkflow({
      name: 'long',
      executor: 'process',
      steps: [{ name: 'sleep', config: { command: 'sh', args: ['-c', 'trap "" TERM; echo "pid $$"; sleep 60 & wait'] } }],
    });
    const run = await baton.trigger('long');
    let pid = 0;
    expect(
      await waitFor(async () => {
        const line = (await logsOf(store, run.id)).find((l) => l.startsWith('log: pid '));
        if (line) pid = Number(line.slice('log: pid '.length));
        return pid > 0;
      }),
    ).toBe(true);
    await baton.cancelRun(run.id);
    expect(await waitFor(() => !alive(pid), 5000)).toBe(true);
    expect((await baton.waitForRun(run.id)).status).toBe('cancelled');
  });
});
