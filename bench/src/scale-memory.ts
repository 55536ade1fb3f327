import { openPgStore } from '@baton/store-pg';
import { openSqliteStore } from '@baton/store-sqlite';
import type { BenchOptions } from './args.js';
import { freshPgDatabase, tempDir } from './databases.js';
import { startWorkerProcess } from './processes.js';
import { perSec, progress, waitUntil } from './stats.js';

export interface ScaleRow {
  processes: number;
  tasks: number;
  processPerSec: number;
}

/** PostgreSQL processing throughput with 1, 2 and 4 worker processes on one database. */
export async function scaleOut(options: BenchOptions): Promise<ScaleRow[]> {
  const say = progress('scale-out pg');
  const rows: ScaleRow[] = [];
  for (const processes of [1, 2, 4]) {
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
    rows.push({ processes, tasks: options.tasks, processPerSec: perSec(options.tasks, ms) });
    say(`${processes} process(es): ${rows.at(-1)!.processPerSec} tasks/s`);
  }
  return rows;
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
