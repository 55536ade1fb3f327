import pg from 'pg';
import { walMeter } from '../databases.js';
import { cpuMeter, jobsRow } from '../stats.js';
import type { ThroughputRow } from '../throughput.js';

/**
 * The leanest claim-a-batch-then-complete loop on PostgreSQL: SKIP LOCKED
 * claims of 500 (the batch Baton and graphile-worker take) and one UPDATE per
 * batch to complete, two loops, so one claims while the other completes (as
 * Baton's next claim overlaps its endings' write). Jobs stay in the table, as
 * Baton's history does. Until the thirteenth session it claimed 50 at a time
 * in four loops: 24,071 jobs/s where Baton's fan-out did 26,350 in the same
 * run, a "floor" Baton was above; at 500 × 2 it is the ceiling it should be.
 */
const BATCH = 500;
const LOOPS = 2;

export async function rawPg(url: string, tasks: number): Promise<ThroughputRow> {
  const pool = new pg.Pool({ connectionString: url, max: LOOPS });
  pool.on('error', () => {});
  await pool.query(`create table raw_jobs (id bigserial primary key, status text not null, payload jsonb, locked_by text, locked_at bigint);
    create index raw_jobs_pending on raw_jobs (id) where status = 'pending'`);
  const enqueueStart = performance.now();
  await pool.query(`insert into raw_jobs (status, payload) select 'pending', '{}' from generate_series(1, $1)`, [tasks]);
  const enqueueMs = performance.now() - enqueueStart;
  const wal = await walMeter(url);
  const cpu = cpuMeter();
  const start = performance.now();
  let processed = 0;
  const loop = async () => {
    for (;;) {
      const { rows } = await pool.query<{ id: string }>(
        `update raw_jobs set status = 'running', locked_by = 'raw', locked_at = $1 where id in (select id from raw_jobs where status = 'pending' order by id limit ${BATCH} for update skip locked) returning id`,
        [Date.now()],
      );
      if (rows.length === 0) return;
      await Promise.all(rows.map(async () => null));
      await pool.query(`update raw_jobs set status = 'done' where id = any($1)`, [rows.map((r: { id: string }) => r.id)]);
      processed += rows.length;
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, loop));
  const processMs = performance.now() - start;
  const cpuPerJob = cpu(tasks);
  const walBytes = await wal();
  await pool.end();
  if (processed !== tasks) throw new Error(`raw pg processed ${processed} of ${tasks}`);
  return jobsRow('raw', 'pg', tasks, {
    enqueueMs,
    processMs,
    config: `batch ${BATCH}, ${LOOPS} loops, SKIP LOCKED, pool ${LOOPS}`,
    walBytes,
    cpu: cpuPerJob,
  });
}
