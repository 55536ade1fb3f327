// pnpm chaos [--short] [--stores sqlite,pg,file] [--tasks N] [--workers N]
// Worker processes on each store, hit by SIGKILL, SIGSTOP past their lease,
// terminated PostgreSQL backends and one PostgreSQL restart (when allowed);
// prints progress, then a table of what was lost, duplicated or crashed.
import { parseArgs } from 'node:util';
import type { ScenarioResult, StoreKind } from './config.js';
import { pgReachable, preset } from './presets.js';
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
const short = values.short;
const stores = values.stores.split(',').map((s) => s.trim()) as StoreKind[];
for (const s of stores) if (!['sqlite', 'pg', 'file'].includes(s)) throw new Error(`--stores: unknown store "${s}" (sqlite, pg, file)`);

const refusal = restartRefusal();
const results: ScenarioResult[] = [];
console.log(
  `Baton chaos suite (${short ? 'short' : 'full'}): stores ${stores.join(', ')}; PostgreSQL restart ${refusal ? `SKIPPED (${refusal})` : 'ON'}`,
);
for (const store of stores) {
  if (store === 'pg' && !(await pgReachable())) continue;
  const options = preset(store, short, refusal === null, (line) => console.log(line));
  if (values.tasks) options.tasks = Number(values.tasks);
  if (values.workers) options.workers = Number(values.workers);
  results.push(await runScenario(options));
}
console.log(`\n${table(results)}\n`);
for (const r of results) for (const c of r.crashDetails) console.log(`crash (${r.store}): ${c}`);
const failed = results.filter((r) => !verdict(r).ok);
console.log(failed.length === 0 ? 'All promises kept.' : `Broken promises on: ${failed.map((r) => r.store).join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
