import pg from 'pg';
import { walMeter } from '../databases.js';
import { cpuMeter, jobsRow } from '../stats.js';
import type { ThroughputRow } from '../throughput.js';

/**
 * The leanest claim-a-batch-then-complete loop on PostgreSQL: SKIP LOCKED
 * claims of 50 and one UPDATE per batch to complete, 4 loops in parallel.
 */
export async function rawPg(url: string, tasks: number): Promise<ThroughputRow> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
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
        `update raw_jobs set status = 'running', locked_by = 'raw', locked_at = $1 where id in (select id from raw_jobs where status = 'pending' order by id limit 50 for update skip locked) returning id`,
        [Date.now()],
      );
      if (rows.length === 0) return;
      await Promise.all(rows.map(async () => null));
      await pool.query(`update raw_jobs set status = 'done' where id = any($1)`, [rows.map((r: { id: string }) => r.id)]);
      processed += rows.length;
    }
  };
  await Promise.all([loop(), loop(), loop(), loop()]);
  const processMs = performance.now() - start;
  const cpuPerJob = cpu(tasks);
  const walBytes = await wal();
  await pool.end();
  if (processed !== tasks) throw new Error(`raw pg processed ${processed} of ${tasks}`);
  return jobsRow('raw', 'pg', tasks, { enqueueMs, processMs, config: 'batch 50, 4 loops, SKIP LOCKED, pool 8', walBytes, cpu: cpuPerJob });
}
