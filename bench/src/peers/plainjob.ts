import Database from 'better-sqlite3';
import { better, defineQueue, defineWorker, JobStatus } from 'plainjob';
import { cpuMeter, jobsRow, waitUntil } from '../stats.js';
import type { ThroughputRow } from '../throughput.js';

/**
 * plainjob workers in one process, as many as help: each worker takes one job
 * at a time, so more workers overlap more of its polling. Tried on this shared
 * machine with 20,000 jobs: 1 → 4,310/s, 2 → 4,778, 4 → 5,013–13,195,
 * 8 → 4,509, 16 → 5,785–10,886, 32 → 8,265; no count won beyond the noise,
 * and more never cost, so 16.
 */
export const PLAINJOB_WORKERS = 16;

/** plainjob as its README sets it up: better-sqlite3 connection, addMany, workers in this process. */
export async function plainjobThroughput(filename: string, tasks: number, workers: number): Promise<ThroughputRow> {
  const connection = better(new Database(filename));
  const queue = defineQueue({ connection, logger: { error() {}, warn() {}, info() {}, debug() {} } as never });
  const enqueueStart = performance.now();
  queue.addMany(
    'noop',
    Array.from({ length: tasks }, () => ({})),
  );
  const enqueueMs = performance.now() - enqueueStart;
  const started = Array.from({ length: workers }, () =>
    defineWorker('noop', async () => {}, { queue, pollIntervall: 10, logger: { error() {}, warn() {}, info() {}, debug() {} } as never }),
  );
  const cpu = cpuMeter();
  const start = performance.now();
  for (const w of started) void w.start();
  await waitUntil(() => queue.countJobs({ type: 'noop', status: JobStatus.Done }) >= tasks, 600_000, 'plainjob', 10);
  const processMs = performance.now() - start;
  const cpuPerJob = cpu(tasks);
  await Promise.all(started.map((w) => w.stop()));
  queue.close();
  return jobsRow('plainjob', 'sqlite', tasks, {
    enqueueMs,
    processMs,
    config: `addMany, ${workers} workers in-process, pollIntervall 10 ms`,
    cpu: cpuPerJob,
  });
}
