import PgBoss from 'pg-boss';
import { walMeter } from '../databases.js';
import { cpuMeter, jobsRow, waitUntil } from '../stats.js';
import type { ThroughputRow } from '../throughput.js';

/** pg-boss 10 as its docs suggest for throughput: bulk insert, batched fetches, several work() subscriptions. */
export async function pgBossThroughput(url: string, tasks: number, concurrency: number): Promise<ThroughputRow> {
  const workers = Math.max(1, Math.round(concurrency / 10));
  // pg-boss waits pollingIntervalSeconds (at least 0.5) after every fetch, full or not, so a
  // subscription takes at most batchSize jobs per 0.5 s: 5 × 50 was 505 jobs/s whatever the
  // database could do. 500 is the batch Baton (concurrency 500) and graphile-worker (local
  // queue 500) take; measured on 20,000 jobs: 50 → 505/s, 200 → 2,082, 500 → 4,894–5,208,
  // 1,000 → 2,890–5,661, 4,000 (the whole backlog in one round) 17,456–36,097.
  const config = { batchSize: 500, pollingIntervalSeconds: 0.5, workers, max: 10 };
  const boss = new PgBoss({ connectionString: url, max: config.max });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('noop');
  const enqueueStart = performance.now();
  for (let i = 0; i < tasks; i += 1000)
    await boss.insert(Array.from({ length: Math.min(1000, tasks - i) }, () => ({ name: 'noop', data: {} })));
  const enqueueMs = performance.now() - enqueueStart;
  let done = 0;
  const wal = await walMeter(url);
  const cpu = cpuMeter();
  const start = performance.now();
  for (let i = 0; i < workers; i++) {
    await boss.work('noop', { batchSize: config.batchSize, pollingIntervalSeconds: config.pollingIntervalSeconds }, async (jobs) => {
      done += jobs.length;
    });
  }
  await waitUntil(async () => done >= tasks && (await boss.getQueueSize('noop', { before: 'completed' })) === 0, 600_000, 'pg-boss', 20);
  const processMs = performance.now() - start;
  const cpuPerJob = cpu(tasks);
  const walBytes = await wal();
  await boss.stop({ graceful: true, wait: true, timeout: 5000 });
  return jobsRow('pg-boss', 'pg', tasks, { enqueueMs, processMs, config: JSON.stringify(config), walBytes, cpu: cpuPerJob });
}
