import Database from 'better-sqlite3';
import { better, defineQueue, defineWorker, JobStatus } from 'plainjob';
import { waitUntil } from '../stats.js';
import type { ThroughputRow } from '../throughput.js';

/** plainjob as its README sets it up: better-sqlite3 connection, addMany, workers in this process. */
export async function plainjobThroughput(filename: string, tasks: number, workers: number): Promise<ThroughputRow> {
  const connection = better(new Database(filename));
  const queue = defineQueue({ connection, logger: { error() {}, warn() {}, info() {}, debug() {} } as never });
  const enqueueStart = performance.now();
  queue.addMany('noop', Array.from({ length: tasks }, () => ({})));
  const enqueueMs = performance.now() - enqueueStart;
  const started = Array.from({ length: workers }, () =>
    defineWorker('noop', async () => {}, { queue, pollIntervall: 10, logger: { error() {}, warn() {}, info() {}, debug() {} } as never }),
  );
  const start = performance.now();
  for (const w of started) void w.start();
  await waitUntil(() => queue.countJobs({ type: 'noop', status: JobStatus.Done }) >= tasks, 600_000, 'plainjob', 10);
  const processMs = performance.now() - start;
  await Promise.all(started.map((w) => w.stop()));
  queue.close();
  return {
    system: 'plainjob',
    db: 'sqlite',
    tasks,
    enqueuePerSec: Math.round(tasks / (enqueueMs / 1000)),
    processPerSec: Math.round(tasks / (processMs / 1000)),
    config: `addMany, ${workers} workers in-process, pollIntervall 10 ms`,
  };
}
