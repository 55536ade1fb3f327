/**
 * `pnpm -F @baton/bench limits [--quick] [--stores sqlite,pg]`: the claim with
 * cluster-wide limits configured (1,000 keys) next to the claim without, on
 * SQLite and PostgreSQL. Each claimed batch is given back untimed (release), so
 * every sample claims from the same backlog. Writes results/limits.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Store, WorkflowDefinition } from '@baton/core';
import { openPgStore } from '@baton/store-pg';
import { openSqliteStore } from '@baton/store-sqlite';
import { freshPgDatabase, pgReachable, tempDir } from './databases.js';
import { percentile, progress, round } from './stats.js';

const quick = process.argv.includes('--quick');
const storesArg = process.argv[process.argv.indexOf('--stores') + 1];
const stores = process.argv.includes('--stores') && storesArg ? storesArg.split(',') : ['sqlite', 'pg'];
const pgUrl = process.env.BATON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TASKS = quick ? 2_000 : 10_000;
const KEYS = 1_000;
const REPS = quick ? 40 : 200;

interface Scenario {
  name: string;
  what: string;
  /** Fills a fresh store; returns the workflow whose tasks are claimed. */
  setup(store: Store): Promise<void>;
}

const fanOut = (name: string, extra: Partial<WorkflowDefinition['steps'][number]> = {}): WorkflowDefinition => ({
  name,
  steps: [{ name: 's', paramsList: Array.from({ length: TASKS }, (_, i) => ({ k: `k${i % KEYS}` })), ...extra }],
});

const ONLY = process.env.BATON_LIMITS_ONLY;
const ALL_SCENARIOS: Scenario[] = [
  {
    name: 'no limits',
    what: `${TASKS.toLocaleString()} pending tasks, no limit ever planned on the store`,
    setup: async (store) => {
      const wf = await store.createWorkflow(fanOut('plain'));
      await store.createRun({ workflowId: wf.id });
    },
  },
  {
    name: 'no limits, limits in use elsewhere',
    what: 'the same, on a store where a limited workflow exists whose tasks are not due',
    setup: async (store) => {
      const wf = await store.createWorkflow(fanOut('plain'));
      await store.createRun({ workflowId: wf.id });
      const limited = await store.createWorkflow(fanOut('later', { concurrency: { key: '{params.k}', limit: 2 } }));
      await store.createRun({ workflowId: limited.id, runAt: new Date(Date.now() + 86_400_000) });
    },
  },
  {
    name: 'concurrency, 1,000 keys',
    what: `${TASKS.toLocaleString()} pending tasks over 1,000 keys, limit 2 per key`,
    setup: async (store) => {
      const wf = await store.createWorkflow(fanOut('keyed', { concurrency: { key: '{params.k}', limit: 2 } }));
      await store.createRun({ workflowId: wf.id });
    },
  },
  {
    name: 'rate, 1,000 keys',
    what: `${TASKS.toLocaleString()} pending tasks over 1,000 keys, 1,000 per minute per key`,
    setup: async (store) => {
      const wf = await store.createWorkflow(fanOut('rated', { rateLimit: { key: '{params.k}', limit: 1000, periodMs: 60_000 } }));
      await store.createRun({ workflowId: wf.id });
    },
  },
  {
    name: 'behind 1,000 full keys',
    what: `2,000 tasks holding every key's 2 slots, ${TASKS.toLocaleString()} more waiting on them, then ${TASKS.toLocaleString()} unlimited tasks`,
    setup: async (store) => {
      const keyed = await store.createWorkflow(fanOut('full', { concurrency: { key: '{params.k}', limit: 2 } }));
      await store.createRun({ workflowId: keyed.id });
      await store.createRun({ workflowId: keyed.id });
      // Fill every key: these leases are kept for the whole measurement.
      for (let held = 0; held < 2 * KEYS; ) held += (await store.claimTasks({ workerId: 'holder', limit: 500, leaseMs: 3_600_000 })).length;
      const plain = await store.createWorkflow(fanOut('plain'));
      await store.createRun({ workflowId: plain.id });
    },
  },
];

/** BATON_LIMITS_ONLY=<scenario name> measures one scenario (and the baseline). */
const SCENARIOS = ALL_SCENARIOS.filter((s) => !ONLY || s.name === ONLY || s.name === 'no limits');

async function measure(store: Store, batch: number): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < REPS + 5; i++) {
    const start = performance.now();
    const claimed = await store.claimTasks({ workerId: 'bench', limit: batch, leaseMs: 60_000 });
    const ms = performance.now() - start;
    if (claimed.length !== batch) throw new Error(`bench: claimed ${claimed.length}, expected ${batch}`);
    if (i >= 5) samples.push(ms);
    await store.releaseTasks(claimed.map((c) => ({ taskId: c.task.id, leaseId: c.task.leaseId! })));
  }
  return { p50: round(percentile(samples, 0.5), 3), p99: round(percentile(samples, 0.99), 3) };
}

interface Row {
  store: string;
  scenario: string;
  batch: number;
  p50: number;
  p99: number;
}

const rows: Row[] = [];
const pgUp = stores.includes('pg') && (await pgReachable(pgUrl));
if (stores.includes('pg') && !pgUp) console.warn(`!!! PostgreSQL at ${pgUrl} is unreachable: its rows are skipped`);
console.log(`Limits bench${quick ? ' (quick)' : ''}: ${stores.join(', ')}; ${REPS} claims per row`);

for (const storeName of stores) {
  if (storeName === 'pg' && !pgUp) continue;
  const say = progress(`limits ${storeName}`);
  for (const scenario of SCENARIOS) {
    let store: Store;
    let cleanup: () => Promise<void>;
    if (storeName === 'sqlite') {
      const { dir, remove } = tempDir('baton-bench-limits-');
      store = await openSqliteStore({ filename: `${dir}/limits.db` });
      cleanup = async () => remove();
    } else {
      const db = await freshPgDatabase(pgUrl, 'baton_bench_limits');
      store = await openPgStore({ connectionString: db.url });
      cleanup = db.drop;
    }
    await scenario.setup(store);
    for (const batch of [1, 50]) {
      const { p50, p99 } = await measure(store, batch);
      rows.push({ store: storeName, scenario: scenario.name, batch, p50, p99 });
      say(`${scenario.name}, batch ${batch}: p50 ${p50} ms, p99 ${p99} ms`);
    }
    await store.close();
    await cleanup();
  }
}

const table = [
  '| store | claim | batch | p50 ms | p99 ms | p50 vs no limits |',
  '|---|---|---:|---:|---:|---:|',
  ...rows.map((r) => {
    const base = rows.find((b) => b.store === r.store && b.batch === r.batch && b.scenario === 'no limits')!;
    return `| ${r.store} | ${r.scenario} | ${r.batch} | ${r.p50} | ${r.p99} | ${round(r.p50 / base.p50, 2)}× |`;
  }),
].join('\n');
const scenarios = SCENARIOS.map((s) => `- **${s.name}**: ${s.what}.`).join('\n');
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../results/limits.md', import.meta.url),
  `# Claim with cluster-wide limits\n\n${new Date().toISOString()}${quick ? ' (quick)' : ''}\n\n${scenarios}\n\n${table}\n`,
);
console.log(`\n${table}\n\nWritten to bench/results/limits.md`);
