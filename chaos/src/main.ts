// pnpm chaos [--short] [--stores sqlite,pg,file] [--tasks N] [--workers N]
// Worker processes on each store, hit by SIGKILL, SIGSTOP past their lease,
// terminated PostgreSQL backends and one PostgreSQL restart (when allowed);
// prints progress, then a table of what was lost, duplicated or crashed.
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { FaultKind, ScenarioResult, StoreKind } from './config.js';
import { table, verdict } from './report.js';
import { restartRefusal, runScenario } from './scenario.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    stores: { type: 'string', default: 'sqlite,pg,file' },
    tasks: { type: 'string' },
    workers: { type: 'string' },
  },
});
const pgUrl = process.env.BATON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const short = values.short;
const stores = values.stores.split(',').map((s) => s.trim()) as StoreKind[];
for (const s of stores) if (!['sqlite', 'pg', 'file'].includes(s)) throw new Error(`--stores: unknown store "${s}" (sqlite, pg, file)`);

async function pgReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

const refusal = restartRefusal();
const results: ScenarioResult[] = [];
console.log(`Baton chaos suite (${short ? 'short' : 'full'}): stores ${stores.join(', ')}; PostgreSQL restart ${refusal ? `SKIPPED (${refusal})` : 'ON'}`);
for (const store of stores) {
  if (store === 'pg' && !(await pgReachable())) {
    if (process.env.CI === 'true') throw new Error(`CI=true but PostgreSQL at ${pgUrl} is unreachable`);
    console.warn(`!!! SKIPPING pg: no PostgreSQL at ${pgUrl}`);
    continue;
  }
  // Sized so the run lasts long enough for every fault (short: ~20 s a store, full: ~1 min);
  // the file store commits a few hundred tasks a second at best, so it gets fewer.
  const tasks = Number(values.tasks ?? (short ? (store === 'file' ? 300 : 500) : store === 'file' ? 2000 : 8000));
  const faults: FaultKind[] = ['kill', 'terminate', 'stop', 'restart', 'kill', 'terminate', 'stop'];
  results.push(
    await runScenario({
      store,
      workers: Number(values.workers ?? (short ? 3 : 4)),
      tasks,
      concurrency: short ? 4 : 8,
      leaseMs: 2000,
      workMs: short ? 300 : 200,
      // A fault every 3-4 s: longer than a freeze (lease + 1.5 s), so recoveries are measured one at a time.
      faultEveryMs: short ? 3000 : 4000,
      faults,
      restartPg: store === 'pg' && refusal === null,
      timeoutMs: short ? 90_000 : 300_000,
      pgUrl,
      log: (line) => console.log(line),
    }),
  );
}
console.log(`\n${table(results)}\n`);
for (const r of results) for (const c of r.crashDetails) console.log(`crash (${r.store}): ${c}`);
const failed = results.filter((r) => !verdict(r).ok);
console.log(failed.length === 0 ? 'All promises kept.' : `Broken promises on: ${failed.map((r) => r.store).join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
