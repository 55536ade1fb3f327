/**
 * `pnpm bench`: the pending-task claim, end-to-end throughput beside
 * graphile-worker, pg-boss and plainjob plus a raw baseline, scale-out and
 * memory. Options: --quick, --stores sqlite,pg,file, --only claim,throughput,
 * scaleout,memory, --tasks N, --workers W, --sizes 10000,100000, --out DIR.
 */
import { openPgStore } from '@baton/store-pg';
import { openSqliteStore } from '@baton/store-sqlite';
import { USAGE, parseOptions } from './args.js';
import { claimLatency } from './claim-latency.js';
import { freshPgDatabase, pgReachable, tempDir, walMeter } from './databases.js';
import { graphileThroughput } from './peers/graphile.js';
import { pgBossThroughput } from './peers/pgboss.js';
import { PLAINJOB_WORKERS, plainjobThroughput } from './peers/plainjob.js';
import { rawPg } from './peers/raw-pg.js';
import { rawSqlite } from './peers/raw-sqlite.js';
import { cpuCell, flatRatios, machine, ratios, writeResults, type Results } from './report.js';
import { memory, scaleOut } from './scale-memory.js';
import { progress } from './stats.js';
import type { ThroughputRow } from './throughput.js';
import { batonThroughput } from './throughput-baton.js';

const parsed = parseOptions(process.argv.slice(2));
if ('help' in parsed) {
  console.log(USAGE);
  process.exit(0);
}
if ('error' in parsed) {
  console.error(`${parsed.error}\n\n${USAGE}`);
  process.exit(2);
}
const options = parsed;
const pgUp = options.stores.includes('pg') && (await pgReachable(options.pgUrl));
if (options.stores.includes('pg') && !pgUp) console.warn(`!!! PostgreSQL at ${options.pgUrl} is unreachable: its sections are skipped`);
console.log(
  `Baton bench${options.quick ? ' (quick)' : ''}: stores ${options.stores.join(', ')}; sections ${options.only.join(', ')}; ${options.tasks.toLocaleString()} tasks, concurrency ${options.workers}`,
);

const results: Results = {
  startedAt: new Date().toISOString(),
  quick: options.quick,
  machine: machine(),
  claim: [],
  throughput: [],
  scaleOut: [],
  ratios: {},
};
if (process.env.BATON_BENCH_NOTE) results.note = process.env.BATON_BENCH_NOTE;

if (options.only.includes('claim')) {
  console.log('\n== Pending-task claim latency');
  const { rows, pgPlan } = await claimLatency(options, pgUp);
  results.claim = rows;
  if (pgPlan) results.pgClaimPlan = pgPlan;
}

if (options.only.includes('throughput')) {
  console.log('\n== End-to-end throughput');
  const add = (rows: ThroughputRow | ThroughputRow[]) => {
    for (const row of [rows].flat()) {
      results.throughput.push(row);
      console.log(
        `  ${row.system.padEnd(16)} ${row.db.padEnd(7)} ${row.shape.padEnd(8)} enqueue ${row.enqueuePerSec.toLocaleString().padStart(9)}/s   process ${row.processPerSec.toLocaleString().padStart(7)}/s${row.cpuUsPerJob ? `   CPU ${cpuCell(row)} µs/job` : ''}${row.walBytesPerJob !== undefined ? `   WAL ${row.walBytesPerJob.toLocaleString()} B/job` : ''}`,
      );
    }
  };
  if (options.stores.includes('sqlite')) {
    const say = progress('throughput sqlite');
    for (const [name, run] of [
      [
        'baton',
        async (dir: string) => {
          const store = await openSqliteStore({ filename: `${dir}/baton.db` });
          try {
            return await batonThroughput(store, 'sqlite', options.tasks, options.batonConcurrency, say);
          } finally {
            await store.close();
          }
        },
      ],
      ['raw', (dir: string) => rawSqlite(`${dir}/raw.db`, options.tasks)],
      ['plainjob', (dir: string) => plainjobThroughput(`${dir}/plainjob.db`, options.tasks, PLAINJOB_WORKERS)],
    ] as const) {
      const { dir, remove } = tempDir(`baton-bench-${name}-`);
      say(`${name}…`);
      add(await run(dir));
      remove();
    }
  }
  if (pgUp) {
    const say = progress('throughput pg');
    for (const [name, run] of [
      [
        'baton',
        async (url: string) => {
          const store = await openPgStore({ connectionString: url });
          try {
            return await batonThroughput(store, 'pg', options.tasks, options.batonConcurrency, say, () => walMeter(url));
          } finally {
            await store.close();
          }
        },
      ],
      ['raw', (url: string) => rawPg(url, options.tasks)],
      ['graphile-worker', (url: string) => graphileThroughput(url, options.tasks)],
      ['pg-boss', (url: string) => pgBossThroughput(url, options.tasks, options.workers)],
    ] as const) {
      const db = await freshPgDatabase(options.pgUrl, `baton_bench_${name.replace('-', '_')}`);
      say(`${name}…`);
      try {
        add(await run(db.url));
      } catch (error) {
        console.warn(`  ${name} failed: ${(error as Error).message}`);
      }
      await db.drop();
    }
  }
}

if (options.only.includes('scaleout') && pgUp) {
  console.log('\n== Scale-out on PostgreSQL');
  results.scaleOut = await scaleOut(options);
}

if (options.only.includes('memory') && options.stores.includes('sqlite')) {
  console.log('\n== Memory');
  results.memory = await memory(options);
}

results.ratios = ratios(results);
const files = writeResults(options.out, results);
console.log('\n== Summary (Baton ÷ peer, processing per second, same run; > 1 means Baton is faster)');
for (const [name, value] of flatRatios(results.ratios)) console.log(`  ${name.padEnd(44)} ${value}`);
console.log(`\nWrote ${files.join(', ')}`);
