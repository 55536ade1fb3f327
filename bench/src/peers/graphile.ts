import pg from 'pg';
import { run } from 'graphile-worker';
import { waitUntil } from '../stats.js';
import type { ThroughputRow } from '../throughput.js';

/** graphile-worker with its runner at the same concurrency, jobs added in bulk by its add_job SQL API. */
export async function graphileThroughput(url: string, tasks: number, concurrency: number): Promise<ThroughputRow> {
  const config = { concurrency, pollInterval: 1000, maxPoolSize: 10 };
  // The bench owns the pool (graphile-worker's documented pgPool option) so an
  // idle client's error can never go unhandled and the pool is ended only
  // after the runner has fully released it.
  const pgPool = new pg.Pool({ connectionString: url, max: config.maxPoolSize });
  pgPool.on('error', () => {});
  const options = { pgPool, concurrency, pollInterval: config.pollInterval, noHandleSignals: true, taskList: { noop: async () => {} }, logger: quietLogger() };
  // Start once to install its schema, then stop: jobs go in while no worker runs.
  const installer = await run(options);
  await installer.stop();
  await installer.promise;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const enqueueStart = performance.now();
  await client.query(`select graphile_worker.add_job('noop', '{}'::json) from generate_series(1, $1)`, [tasks]);
  const enqueueMs = performance.now() - enqueueStart;
  const start = performance.now();
  const runner = await run(options);
  // graphile-worker deletes jobs as they complete.
  await waitUntil(async () => Number((await client.query(`select count(*) as n from graphile_worker.jobs`)).rows[0].n) === 0, 600_000, 'graphile-worker', 20);
  const processMs = performance.now() - start;
  await runner.stop();
  await runner.promise;
  await client.end();
  await pgPool.end();
  return { system: 'graphile-worker', db: 'pg', tasks, enqueuePerSec: Math.round(tasks / (enqueueMs / 1000)), processPerSec: Math.round(tasks / (processMs / 1000)), config: JSON.stringify(config) };
}

function quietLogger() {
  // graphile-worker's Logger wants a factory; a silent one keeps the bench output readable.
  return new (class {
    scope() {
      return this;
    }
    error() {}
    warn() {}
    info() {}
    debug() {}
  })() as never;
}
