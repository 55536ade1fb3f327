import Database from 'better-sqlite3';
import { cpuMeter, jobsRow } from '../stats.js';
import type { ThroughputRow } from '../throughput.js';

/**
 * The leanest claim-a-batch-then-complete loop on SQLite: one table, a partial
 * index, prepared statements, batches of 50, no bookkeeping. The ceiling.
 */
export async function rawSqlite(filename: string, tasks: number): Promise<ThroughputRow> {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`create table jobs (id integer primary key, status text not null, payload text, locked_by text, locked_at integer);
    create index jobs_pending on jobs (id) where status = 'pending';`);
  const insert = db.prepare(`insert into jobs (status, payload) values ('pending', '{}')`);
  const enqueueStart = performance.now();
  db.transaction(() => {
    for (let i = 0; i < tasks; i++) insert.run();
  })();
  const enqueueMs = performance.now() - enqueueStart;
  const claim = db.prepare(
    `update jobs set status = 'running', locked_by = 'raw', locked_at = ? where id in (select id from jobs where status = 'pending' order by id limit 50) returning id`,
  );
  const done = db.prepare(`update jobs set status = 'done' where id = ?`);
  const claimTx = db.transaction(() => claim.all(Date.now()) as { id: number }[]);
  const doneTx = db.transaction((ids: { id: number }[]) => {
    for (const { id } of ids) done.run(id);
  });
  const cpu = cpuMeter();
  const start = performance.now();
  let processed = 0;
  while (processed < tasks) {
    const ids = claimTx();
    await Promise.all(ids.map(async () => null)); // the no-op "work", as async as Baton's
    doneTx(ids);
    processed += ids.length;
  }
  const processMs = performance.now() - start;
  const cpuPerJob = cpu(tasks);
  db.close();
  return jobsRow('raw', 'sqlite', tasks, { enqueueMs, processMs, config: 'batch 50, prepared statements, one connection', cpu: cpuPerJob });
}
