import { createBaton, type Baton, type Store } from '@baton/core';
import { cpuMeter, percentile, perSec, round, timed, waitUntil } from './stats.js';
import type { ThroughputRow } from './throughput.js';

const quiet = { warn() {}, error() {} };
const handler = async () => null;

/** A scheduler with the bench's workflows defined: `noop` (a fan-out of N) and `single`. */
async function scheduler(store: Store, tasks: number, concurrency: number): Promise<Baton> {
  const baton = createBaton({ store, concurrency, leaseMs: 30_000, logger: quiet });
  await baton.defineWorkflow({ name: 'noop', steps: [{ name: 's', taskCount: tasks }] }, { s: handler });
  await baton.defineWorkflow({ name: 'single', steps: [{ name: 's' }] }, { s: handler });
  return baton;
}

/** Timing ends when the store says every run finished. */
async function allRunsFinished(store: Store): Promise<boolean> {
  for (const status of ['pending', 'running'] as const) if ((await store.listRuns({ status, limit: 1 })).items.length > 0) return false;
  return true;
}

/**
 * Baton end to end, both shapes, each processed by one scheduler of
 * concurrency W with full run, task and log history kept: one fan-out run of
 * N tasks, then N single-task runs enqueued with one `triggerMany`. Then, apart:
 * single-task runs enqueued by separate `trigger` calls, and add-to-start latency.
 */
export async function batonThroughput(
  store: Store,
  db: 'sqlite' | 'pg',
  tasks: number,
  concurrency: number,
  say: (m: string) => void,
  /** PostgreSQL: counts the WAL written while each shape is processed (walMeter). */
  walMeter?: () => Promise<() => Promise<number>>,
): Promise<ThroughputRow[]> {
  const config = JSON.stringify({ concurrency, leaseMs: 30_000, pollIntervalMs: 1000 });
  const idle = await scheduler(store, tasks, concurrency);

  const [run, fanoutEnqueueMs] = await timed(() => idle.trigger('noop'));
  say(`baton/${db} fan-out: enqueued ${tasks.toLocaleString()} tasks in one run (${Math.round(fanoutEnqueueMs)} ms); processing…`);
  let baton = await scheduler(store, tasks, concurrency);
  let wal = await walMeter?.();
  let cpu = cpuMeter();
  let start = performance.now();
  await baton.start();
  await waitUntil(async () => (await store.getRun(run.id)).status === 'success', 600_000, 'the fan-out run', 20);
  const fanoutMs = performance.now() - start;
  const fanoutCpu = cpu(tasks);
  const fanoutWal = await wal?.();
  await baton.stop();
  say(`baton/${db} fan-out: processed in ${Math.round(fanoutMs)} ms`);

  const [, singlesEnqueueMs] = await timed(() =>
    idle.triggerMany(
      'single',
      Array.from({ length: tasks }, (_, i) => ({ inputs: { i } })),
    ),
  );
  say(
    `baton/${db} singles: enqueued ${tasks.toLocaleString()} runs with one triggerMany (${Math.round(singlesEnqueueMs)} ms); processing…`,
  );
  baton = await scheduler(store, tasks, concurrency);
  wal = await walMeter?.();
  cpu = cpuMeter();
  start = performance.now();
  await baton.start();
  await waitUntil(() => allRunsFinished(store), 600_000, 'the single-task runs', 20);
  const singlesMs = performance.now() - start;
  const singlesCpu = cpu(tasks);
  const singlesWal = await wal?.();
  say(`baton/${db} singles: processed in ${Math.round(singlesMs)} ms`);

  // Add-to-start latency with the worker idle: single-task runs, one every 5 ms.
  const latencies: number[] = [];
  const probes = await Promise.all(
    Array.from(
      { length: 100 },
      (_, i) => new Promise<string>((resolve) => setTimeout(async () => resolve((await baton.trigger('single')).id), i * 5)),
    ),
  );
  for (const id of probes) {
    const finished = await baton.waitForRun(id, { timeoutMs: 60_000 });
    const [task] = (await store.listTasks({ runId: finished.id })).items;
    latencies.push(task!.startedAt!.getTime() - task!.createdAt.getTime());
  }
  await baton.stop();

  // Separate trigger calls (50 in flight), the worker stopped: enqueue only.
  const calls = Math.min(tasks, 2000);
  const [, callsMs] = await timed(async () => {
    for (let i = 0; i < calls; i += 50) await Promise.all(Array.from({ length: Math.min(50, calls - i) }, () => idle.trigger('single')));
  });
  say(`baton/${db}: ${calls} runs by separate trigger calls in ${Math.round(callsMs)} ms`);
  await idle.stop();
  return [
    {
      system: 'baton',
      db,
      shape: 'fanout',
      tasks,
      enqueuePerSec: perSec(tasks, fanoutEnqueueMs),
      processPerSec: perSec(tasks, fanoutMs),
      ...(fanoutWal !== undefined && { walBytesPerJob: Math.round(fanoutWal / tasks) }),
      cpuUsPerJob: fanoutCpu,
      config,
    },
    {
      system: 'baton',
      db,
      shape: 'singles',
      tasks,
      enqueuePerSec: perSec(tasks, singlesEnqueueMs),
      triggerCallsPerSec: perSec(calls, callsMs),
      processPerSec: perSec(tasks, singlesMs),
      addToStartP50Ms: round(percentile(latencies, 0.5), 1),
      ...(singlesWal !== undefined && { walBytesPerJob: Math.round(singlesWal / tasks) }),
      cpuUsPerJob: singlesCpu,
      config,
    },
  ];
}
