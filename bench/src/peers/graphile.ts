import pg from 'pg';
import { makeWorkerUtils, run } from 'graphile-worker';
import { walMeter } from '../databases.js';
import { cpuMeter, jobsRow, waitUntil } from '../stats.js';
import type { ThroughputRow } from '../throughput.js';

/**
 * graphile-worker configured as its performance page
 * (https://worker.graphile.org/docs/performance) configures it for its quick
 * stats: `concurrentJobs: 24`, `maxPoolSize: 25`, `localQueue: { size: 500 }`,
 * `completeJobBatchDelay: 0`, `failJobBatchDelay: 0`; jobs added with one
 * `addJobs` call (its `add_jobs` SQL function); timed until its jobs table is
 * empty (it deletes jobs as they complete).
 */
const GRAPHILE_PRESET = { concurrentJobs: 24, maxPoolSize: 25, localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 };

export async function graphileThroughput(url: string, tasks: number): Promise<ThroughputRow> {
  // The bench owns the pool (graphile-worker's documented pgPool option) so an
  // idle client's error can never go unhandled and the pool is ended only
  // after the runner has fully released it.
  const pgPool = new pg.Pool({ connectionString: url, max: GRAPHILE_PRESET.maxPoolSize });
  pgPool.on('error', () => {});
  // graphile-worker checks for this too: a checked-out client's error must not go unhandled.
  pgPool.on('connect', (client) => client.on('error', () => {}));
  const preset = { worker: { ...GRAPHILE_PRESET } };
  const options = { pgPool, preset, noHandleSignals: true, taskList: { noop: async () => {} }, logger: quietLogger() };
  // Start once to install its schema, then stop: jobs go in while no worker runs.
  const installer = await run(options);
  await installer.stop();
  await installer.promise;
  const utils = await makeWorkerUtils({ pgPool, logger: quietLogger() });
  const enqueueStart = performance.now();
  await utils.addJobs(Array.from({ length: tasks }, () => ({ identifier: 'noop', payload: {} })));
  const enqueueMs = performance.now() - enqueueStart;
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  const wal = await walMeter(url);
  const cpu = cpuMeter();
  const start = performance.now();
  const runner = await run(options);
  await waitUntil(
    async () => Number((await client.query(`select count(*) as n from graphile_worker.jobs`)).rows[0].n) === 0,
    600_000,
    'graphile-worker',
    20,
  );
  const processMs = performance.now() - start;
  const cpuPerJob = cpu(tasks);
  const walBytes = await wal();
  await runner.stop();
  await runner.promise;
  await utils.release();
  await client.end();
  await pgPool.end();
  return jobsRow('graphile-worker', 'pg', tasks, {
    enqueueMs,
    processMs,
    config: `${JSON.stringify(GRAPHILE_PRESET)}, one addJobs call`,
    walBytes,
    cpu: cpuPerJob,
  });
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
