import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Store } from '@baton/core';
import { openPgStore } from '@baton/store-pg';
import { spawnTs, until, type Child } from '@baton/test-kit';
import { PG_URL, dropSchemas, pgAvailable, query, schemaName } from './pg.js';

const available = await pgAvailable();
const fixture = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
const schemas = new Set<string>();
const children: Child[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.process.kill('SIGKILL');
});
afterAll(() => dropSchemas(schemas));

async function setup(): Promise<{ schema: string; store: Store }> {
  const schema = schemaName('baton_scale');
  schemas.add(schema);
  const store = await openPgStore({ connectionString: PG_URL, schema, poolSize: 4 });
  await query(
    `create table ${schema}.executed (task_id uuid not null, worker text not null, attempt int not null, at timestamptz not null default clock_timestamp())`,
  );
  return { schema, store };
}

async function startWorker(schema: string, id: string, leaseMs: number, workMs: number): Promise<Child> {
  const child = spawnTs(fixture, [PG_URL, schema, id, String(leaseMs), String(workMs)]);
  children.push(child);
  await child.ready();
  return child;
}

const waitFor = (check: () => Promise<boolean>, timeoutMs: number, what: string) => until(check, timeoutMs, what, 100);

describe.skipIf(!available)('pg store: many worker processes on one database', () => {
  it('4 workers run 5,000 tasks, each exactly once; the cron fires once per second across all of them', async () => {
    const { schema, store } = await setup();
    await Promise.all(['w1', 'w2', 'w3', 'w4'].map((id) => startWorker(schema, id, 30_000, 0)));
    const wf = (await store.findWorkflow('scale'))!;
    await store.updateWorkflow(wf.id, { steps: [{ name: 's', taskCount: 5000 }] });
    const { run } = await store.createRun({ workflowId: wf.id, triggeredBy: 'api' });
    await waitFor(async () => (await store.getRun(run.id)).status === 'success', 60_000, 'the 5,000-task run');
    const counts = await query<{ task_id: string; n: string }>(
      `select e.task_id, count(*) as n from ${schema}.executed e join ${schema}.baton_tasks t on t.id = e.task_id where t.run_id = $1 group by e.task_id`,
      [run.id],
    );
    expect(counts).toHaveLength(5000);
    expect(counts.every((c) => Number(c.n) === 1)).toBe(true);
    const workers = await query<{ worker: string }>(`select distinct worker from ${schema}.executed`);
    expect(workers.length).toBeGreaterThanOrEqual(2);
    // Schedules: every worker runs the same cron, yet each fire made one run.
    const fires = await query<{ idempotency_key: string; n: string }>(
      `select idempotency_key, count(*) as n from ${schema}.baton_runs where triggered_by = 'schedule' group by idempotency_key`,
    );
    // No lower bound from the wall clock: on a loaded machine (load 20 on 2 cores) the schedulers
    // lag and skip fires by design (catch-up 'skip'), so a bound like "elapsed seconds − 3" failed
    // without any defect. What matters is below: several fires, and never two runs for one.
    expect(fires.length).toBeGreaterThanOrEqual(2);
    expect(fires.every((f) => Number(f.n) === 1)).toBe(true);
    await store.close();
  });

  it('a worker killed with SIGKILL and a worker whose connections the server terminated: the run still completes, nothing lost', async () => {
    const { schema, store } = await setup();
    const workers = await Promise.all(['k1', 'k2', 'k3', 'k4'].map((id) => startWorker(schema, id, 1500, 20)));
    const wf = (await store.findWorkflow('scale'))!;
    await store.updateWorkflow(wf.id, { steps: [{ name: 's', taskCount: 1500 }] });
    const { run } = await store.createRun({ workflowId: wf.id });
    await waitFor(
      async () => Number((await query<{ n: string }>(`select count(*) as n from ${schema}.executed`))[0]!.n) > 200,
      30_000,
      'progress',
    );
    workers[0]!.process.kill('SIGKILL');
    const [{ now: terminatedAt }] = (await query<{ now: Date }>(`select clock_timestamp() as now`)) as [{ now: Date }];
    const killed = await query<{ ok: boolean }>(
      `select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'k2'`,
    );
    expect(killed.filter((k) => k.ok).length).toBeGreaterThan(0);
    await waitFor(async () => (await store.getRun(run.id)).status === 'success', 60_000, 'the run to complete after the kill');
    const tasks = await query<{ status: string; n: string }>(
      `select status, count(*) as n from ${schema}.baton_tasks where run_id = $1 group by status`,
      [run.id],
    );
    expect(tasks).toEqual([{ status: 'success', n: '1500' }]);
    const missing = await query(
      `select t.id from ${schema}.baton_tasks t where t.run_id = $1 and not exists (select 1 from ${schema}.executed e where e.task_id = t.id)`,
      [run.id],
    );
    expect(missing).toHaveLength(0);
    // k2 survived losing its connections (still running) and kept working: it ran tasks after the termination.
    expect(workers[1]!.process.exitCode).toBeNull();
    const k2Late = await query(`select 1 from ${schema}.executed where worker = 'k2' and at > $1 limit 1`, [terminatedAt]);
    expect(k2Late.length).toBe(1);
    await store.close();
  });
});
