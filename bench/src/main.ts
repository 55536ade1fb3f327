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
import { medianRounds, type ThroughputRow } from './throughput.js';
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
  console.log(`\n== End-to-end throughput (${options.rounds} round${options.rounds === 1 ? '' : 's'}, every system once a round)`);
  const line = (row: ThroughputRow) =>
    `  ${row.system.padEnd(16)} ${row.db.padEnd(7)} ${row.shape.padEnd(8)} enqueue ${row.enqueuePerSec.toLocaleString().padStart(9)}/s   process ${row.processPerSec.toLocaleString().padStart(7)}/s${row.cpuUsPerJob ? `   CPU ${cpuCell(row)} µs/job` : ''}${row.walBytesPerJob !== undefined ? `   WAL ${row.walBytesPerJob.toLocaleString()} B/job` : ''}`;
  /** Every system once a round, in turn; then each system's median round. */
  const measure = async (say: (m: string) => void, systems: (readonly [string, () => Promise<ThroughputRow | ThroughputRow[]>])[]) => {
    const rounds: ThroughputRow[][] = [];
    for (let r = 1; r <= options.rounds; r++) {
      const round: ThroughputRow[] = [];
      for (const [name, run] of systems) {
        say(`${options.rounds > 1 ? `round ${r}/${options.rounds}, ` : ''}${name}…`);
        try {
          for (const row of [await run()].flat()) {
            round.push(row);
            console.log(line(row));
          }
        } catch (error) {
          console.warn(`  ${name} failed: ${(error as Error).message}`);
        }
      }
      rounds.push(round);
    }
    const rows = medianRounds(rounds);
    if (options.rounds > 1) {
      console.log('  median round of each:');
      for (const row of rows) console.log(line(row));
    }
    results.throughput.push(...rows);
  };
  if (options.stores.includes('sqlite')) {
    const say = progress('throughput sqlite');
    const inDir = (name: string, run: (dir: string) => Promise<ThroughputRow | ThroughputRow[]>) => async () => {
      const { dir, remove } = tempDir(`baton-bench-${name}-`);
      try {
        return await run(dir);
      } finally {
        remove();
      }
    };
    await measure(say, [
      [
        'baton',
        inDir('baton', async (dir) => {
          const store = await openSqliteStore({ filename: `${dir}/baton.db` });
          try {
            return await batonThroughput(store, 'sqlite', options.tasks, options.batonConcurrency, say);
          } finally {
            await store.close();
          }
        }),
      ],
      ['raw', inDir('raw', (dir) => rawSqlite(`${dir}/raw.db`, options.tasks))],
      ['plainjob', inDir('plainjob', (dir) => plainjobThroughput(`${dir}/plainjob.db`, options.tasks, PLAINJOB_WORKERS))],
    ]);
  }
  if (pgUp) {
    const say = progress('throughput pg');
    const inDatabase = (name: string, run: (url: string) => Promise<ThroughputRow | ThroughputRow[]>) => async () => {
      const db = await freshPgDatabase(options.pgUrl, `baton_bench_${name.replace('-', '_')}`);
      try {
        return await run(db.url);
      } finally {
        await db.drop();
      }
    };
    await measure(say, [
      [
        'baton',
        inDatabase('baton', async (url) => {
          const store = await openPgStore({ connectionString: url });
          try {
            return await batonThroughput(store, 'pg', options.tasks, options.batonConcurrency, say, () => walMeter(url));
          } finally {
            await store.close();
          }
        }),
      ],
      ['raw', inDatabase('raw', (url) => rawPg(url, options.tasks))],
      ['graphile-worker', inDatabase('graphile-worker', (url) => graphileThroughput(url, options.tasks))],
      ['pg-boss', inDatabase('pg-boss', (url) => pgBossThroughput(url, options.tasks, options.workers))],
    ]);
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
