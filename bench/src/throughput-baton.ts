import { createBaton, type Store } from '@baton/core';
import { percentile, round, timed, waitUntil } from './stats.js';
import type { ThroughputRow } from './throughput.js';

/**
 * Baton end to end: enqueue N no-op tasks as one fan-out run (and, apart,
 * single-task runs), then process them with one scheduler of concurrency W.
 */
export async function batonThroughput(store: Store, db: 'sqlite' | 'pg', tasks: number, concurrency: number, say: (m: string) => void): Promise<ThroughputRow> {
  const handler = async () => null;
  const idle = createBaton({ store, concurrency, logger: { warn() {}, error() {} } });
  await idle.defineWorkflow({ name: 'noop', steps: [{ name: 's', taskCount: tasks }] }, { s: handler });
  await idle.defineWorkflow({ name: 'single', steps: [{ name: 's' }] }, { s: handler });
  const [run, enqueueMs] = await timed(() => idle.trigger('noop'));
  const singles = Math.min(2000, Math.ceil(tasks / 10));
  const [, singleMs] = await timed(async () => {
    for (let i = 0; i < singles; i += 50) await Promise.all(Array.from({ length: Math.min(50, singles - i) }, () => idle.trigger('single')));
  });
  say(`baton/${db}: enqueued ${tasks} tasks in one run (${Math.round(enqueueMs)} ms) and ${singles} single-task runs (${Math.round(singleMs)} ms)`);

  const config = { concurrency, leaseMs: 30_000, pollIntervalMs: 1000 };
  const baton = createBaton({ store, ...config, logger: { warn() {}, error() {} } });
  await baton.defineWorkflow({ name: 'noop', steps: [{ name: 's', taskCount: tasks }] }, { s: handler });
  await baton.defineWorkflow({ name: 'single', steps: [{ name: 's' }] }, { s: handler });
  // Only the fan-out is timed: park the single runs' workflow first.
  await baton.pauseWorkflow('single');
  const start = performance.now();
  await baton.start();
  await waitUntil(async () => (await store.getRun(run.id)).status === 'success', 600_000, 'the fan-out run', 50);
  const processMs = performance.now() - start;
  say(`baton/${db}: processed ${tasks} tasks in ${Math.round(processMs)} ms`);

  // Add-to-start latency with the worker idle and running: single-task runs, one every 5 ms.
  await baton.resumeWorkflow('single');
  await waitUntil(async () => (await store.listRuns({ status: 'pending', limit: 1 })).items.length === 0 && (await store.listRuns({ status: 'running', limit: 1 })).items.length === 0, 120_000, 'the single runs');
  const latencies: number[] = [];
  const probes = await Promise.all(
    Array.from({ length: 100 }, (_, i) => new Promise<string>((resolve) => setTimeout(async () => resolve((await baton.trigger('single')).id), i * 5))),
  );
  for (const id of probes) {
    const finished = await baton.waitForRun(id, { timeoutMs: 60_000 });
    const [task] = (await store.listTasks({ runId: finished.id })).items;
    latencies.push(task!.startedAt!.getTime() - task!.createdAt.getTime());
  }
  await baton.stop();
  await idle.stop();
  return {
    system: 'baton',
    db,
    tasks,
    enqueuePerSec: Math.round(tasks / (enqueueMs / 1000)),
    enqueueRunsPerSec: Math.round(singles / (singleMs / 1000)),
    processPerSec: Math.round(tasks / (processMs / 1000)),
    addToStartP50Ms: round(percentile(latencies, 0.5), 1),
    config: JSON.stringify(config),
  };
}
