import { openPgStore } from '@baton/store-pg';
import { openSqliteStore } from '@baton/store-sqlite';
import type { BenchOptions } from './args.js';
import { freshPgDatabase, tempDir } from './databases.js';
import { startWorkerProcess } from './processes.js';
import { percentile, perSec, progress, waitUntil } from './stats.js';

export interface ScaleRow {
  processes: number;
  tasks: number;
  /** The median of `samples`. */
  processPerSec: number;
  /** Each round's rate, in round order. */
  samples: number[];
}

/**
 * Rounds of the scale-out measurement (one in quick mode). One round was too
 * noisy to read on this 2-core machine, where PostgreSQL shares the cores with
 * the workers: 2 processes ÷ 1 measured 1.32 in one full bench and 0.73 in the
 * next, an hour apart, same code. Rounds go 1, 2, 4, 1, 2, 4, … so a slow
 * minute of the machine falls on every process count alike; each count reports
 * its median and every sample.
 */
const SCALE_ROUNDS = 3;

/** PostgreSQL processing throughput with 1, 2 and 4 worker processes on one database, median of SCALE_ROUNDS rounds. */
export async function scaleOut(options: BenchOptions): Promise<ScaleRow[]> {
  const say = progress('scale-out pg');
  const counts = [1, 2, 4];
  const samples = new Map(counts.map((n) => [n, [] as number[]]));
  const rounds = options.quick ? 1 : SCALE_ROUNDS;
  for (let round = 1; round <= rounds; round++)
    for (const processes of counts) {
      const rate = await scaleOutOnce(options, processes);
      samples.get(processes)!.push(rate);
      say(`round ${round}/${rounds}, ${processes} process(es): ${rate} tasks/s`);
    }
  return counts.map((processes) => {
    const rates = samples.get(processes)!;
    return { processes, tasks: options.tasks, processPerSec: percentile(rates, 0.5), samples: rates };
  });
}

/** One fan-out of `options.tasks` worked by `processes` worker processes: tasks per second. */
async function scaleOutOnce(options: BenchOptions, processes: number): Promise<number> {
  const db = await freshPgDatabase(options.pgUrl, 'baton_bench_scale');
  const store = await openPgStore({ connectionString: db.url });
  const wf = await store.createWorkflow({ name: 'noop', steps: [{ name: 's', taskCount: options.tasks }] });
  await store.updateWorkflow(wf.id, { status: 'paused' });
  const { run } = await store.createRun({ workflowId: wf.id });
  const workers = Array.from({ length: processes }, () => startWorkerProcess('pg', db.url, options.workers));
  await Promise.all(workers.map((w) => w.ready));
  await store.updateWorkflow(wf.id, { status: 'active', steps: [{ name: 's', taskCount: options.tasks }] });
  await waitUntil(async () => (await store.getRun(run.id)).status === 'success', 600_000, 'the scale-out run', 50);
  // From the run's first claim to its last ending, as the store recorded them: the workers
  // notice the activation at their next poll (up to a second later), and timing from the
  // activation added that wait, a different one for each process count, to 2-3 s runs.
  const ms = (await store.getRun(run.id)).durationMs!;
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited.catch(() => 0)));
  await store.close();
  await db.drop();
  return perSec(options.tasks, ms);
}

export interface MemoryRow {
  store: 'sqlite';
  tasks: number;
  peakRssMb: number;
}

/** Peak RSS of one scheduler process that works through a large fan-out on SQLite. */
export async function memory(options: BenchOptions): Promise<MemoryRow> {
  const say = progress('memory sqlite');
  const tasks = options.quick ? 10_000 : 100_000;
  const { dir, remove } = tempDir('baton-bench-mem-');
  const filename = `${dir}/mem.db`;
  const store = await openSqliteStore({ filename });
  const wf = await store.createWorkflow({ name: 'noop', steps: [{ name: 's', taskCount: tasks }] });
  const { run } = await store.createRun({ workflowId: wf.id });
  await store.close();
  say(`${tasks.toLocaleString()} tasks enqueued; one worker process runs them`);
  const worker = startWorkerProcess('sqlite', filename, options.workers, run.id);
  const rss = await worker.exited;
  remove();
  say(`peak RSS ${(rss / 1024 / 1024).toFixed(0)} MB`);
  return { store: 'sqlite', tasks, peakRssMb: Math.round(rss / 1024 / 1024) };
}
