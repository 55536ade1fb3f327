import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError, type Store } from '@baton/core';
import { openPgStore } from '@baton/store-pg';
import { sleep, spawnTs, until, type Child } from '@baton/test-kit';
import { PG_URL, dropSchemas, pgAvailable, query, schemaName } from './pg.js';

const available = await pgAvailable();
const fixture = fileURLToPath(new URL('./fixtures/fault-worker.ts', import.meta.url));
const schemas = new Set<string>();
const children: Child[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.process.kill('SIGKILL');
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});
afterAll(() => dropSchemas(schemas));

async function open(extra: Parameters<typeof openPgStore>[0] = {}): Promise<{ schema: string; store: Store }> {
  const schema = schemaName('baton_fault');
  schemas.add(schema);
  const store = await openPgStore({ connectionString: PG_URL, schema, poolSize: 4, warn: () => {}, ...extra });
  cleanups.push(() => store.close());
  return { schema, store };
}

const waitFor = (check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) => until(check, timeoutMs, what, 50);

describe.skipIf(!available)('pg store: database faults', () => {
  it('a worker whose backends are terminated again and again, busy or idle, stays alive and finishes every task', async () => {
    const { schema, store } = await open();
    const worker = spawnTs(fixture, [PG_URL, schema, 'victim', '3000']);
    children.push(worker);
    const child = worker.process;
    await waitFor(() => worker.lines.includes('ready') || child.exitCode !== null, 30_000, 'the worker');
    const wf = (await store.findWorkflow('faulty'))!;
    await store.updateWorkflow(wf.id, { steps: [{ name: 's', taskCount: 300 }] });
    const { run } = await store.createRun({ workflowId: wf.id });
    const executed = () => worker.lines.filter((l) => l.startsWith('{')).length;
    await waitFor(() => executed() >= 30 || child.exitCode !== null, 30_000, 'progress');
    // Every connection the worker has (pool, checked-out clients inside handler transactions, LISTEN), 8 times over.
    let terminated = 0;
    for (let i = 0; i < 8; i++) {
      const rows = await query<{ ok: boolean }>(
        `select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'victim'`,
      );
      terminated += rows.filter((r) => r.ok).length;
      await sleep(150);
    }
    expect(terminated).toBeGreaterThan(8);
    const afterTermination = executed();
    await waitFor(async () => (await store.getRun(run.id)).status === 'success' || child.exitCode !== null, 60_000, 'the run');
    // Alive: no unhandled 'error' event or rejection ended it.
    expect({ exitCode: child.exitCode, signal: child.signalCode, stderr: worker.stderr() }).toEqual({
      exitCode: null,
      signal: null,
      stderr: '',
    });
    expect((await store.getRun(run.id)).status).toBe('success');
    // It did the rest of the work itself after the terminations (it is the only worker).
    expect(executed()).toBeGreaterThan(afterTermination);
    const tasks = await query<{ status: string; n: string }>(
      `select status, count(*) as n from ${schema}.baton_tasks where run_id = $1 group by status`,
      [run.id],
    );
    expect(tasks).toEqual([{ status: 'success', n: '300' }]);
    const ran = new Set(worker.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).task as string));
    expect(ran.size).toBe(300);
  });

  it('lease recovery is not blocked by a frozen worker holding row locks mid-transaction, and skips only its rows', async () => {
    const { schema, store } = await open();
    const wf = await store.createWorkflow({ name: 'held', retry: { maxAttempts: 3 }, steps: [{ name: 's', taskCount: 4 }] });
    const { run } = await store.createRun({ workflowId: wf.id });
    const claimed = await store.claimTasks({ workerId: 'frozen', limit: 4, leaseMs: 20 });
    expect(claimed).toHaveLength(4);
    const locked = claimed[0]!.task.id;
    // The frozen worker: a transaction holding one task's row lock, never ending on its own.
    const frozen = new pg.Client({ connectionString: PG_URL });
    await frozen.connect();
    cleanups.push(() => frozen.end());
    await frozen.query('begin');
    await frozen.query(`select id from ${schema}.baton_tasks where id = $1 for update`, [locked]);
    await sleep(50);
    let released = false;
    const release = setTimeout(() => {
      released = true;
      void frozen.query('rollback');
    }, 20_000);
    cleanups.push(async () => clearTimeout(release));
    const recovered = await store.recoverExpiredLeases();
    // It returned while the lock was still held: it did not wait for the frozen transaction.
    expect(released).toBe(false);
    expect(recovered.map((r) => r.taskId).sort()).toEqual(
      claimed
        .slice(1)
        .map((c) => c.task.id)
        .sort(),
    );
    expect(recovered.every((r) => r.status === 'pending' && r.runId === run.id)).toBe(true);
    // Once the frozen session is gone (the server's idle-in-transaction timeout ends it), the last one comes back too.
    await frozen.query('rollback');
    expect(await store.recoverExpiredLeases()).toEqual([{ taskId: locked, runId: run.id, status: 'pending' }]);
  });

  it('a session left idle inside a transaction is ended by the server, freeing its locks (idleInTransactionMs)', async () => {
    const { store } = await open({ timeouts: { idleInTransactionMs: 300 } });
    const wf = await store.createWorkflow({ name: 'idle', steps: [{ name: 's' }] });
    let failure: unknown;
    // A transaction that stalls as a frozen process would, holding its connection.
    await store
      .transaction(async (tx) => {
        await tx.getWorkflow(wf.id);
        await sleep(1000);
        await tx.getWorkflow(wf.id);
      })
      .catch((e: unknown) => (failure = e));
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    // The store is usable afterwards: the dead client was dropped from the pool.
    expect((await store.getWorkflow(wf.id)).name).toBe('idle');
  });

  it('reads survive their connection being terminated; calls to an unreachable server fail with StoreUnavailableError', async () => {
    const { store } = await open({ connectionString: `${PG_URL}?application_name=reader_${process.pid}` });
    const wf = await store.createWorkflow({ name: 'r', steps: [{ name: 's' }] });
    await query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`, [`reader_${process.pid}`]);
    expect((await store.getWorkflow(wf.id)).name).toBe('r');

    // Opening checks the schema's migrations (even with migrate: false), so an unreachable
    // server is reported by openPgStore itself, typed, after connectRetryMs.
    const error = await openPgStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      migrate: false,
      connectRetryMs: 300,
      warn: () => {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).code).toBe('STORE_UNAVAILABLE');
  });

  it('a createRuns whose connection is terminated mid-insert runs again whole, or fails typed with nothing written', async () => {
    // Its inserts are queued a part at a time on the transaction's connection: the part under way
    // fails, those queued behind it must not run, and the transaction runs again on a fresh one.
    const app = `bulk_${process.pid}`;
    const { schema, store } = await open({ connectionString: `${PG_URL}?application_name=${app}` });
    const wf = await store.createWorkflow({ name: 'bulk', steps: [{ name: 's' }] });
    let terminated = 0;
    const killer = (async () => {
      const deadline = Date.now() + 20_000;
      while (terminated === 0 && Date.now() < deadline) {
        const rows = await query<{ n: number }>(
          `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
           where application_name = $1 and state = 'active' and query like 'insert into "baton_%'`,
          [app],
        );
        terminated += rows[0]!.n;
        await sleep(5);
      }
    })();
    const n = 20_000;
    const outcome = await store.createRuns(Array.from({ length: n }, (_, i) => ({ workflowId: wf.id, inputs: { i } }))).then(
      (runs) => ({ runs }),
      (error: unknown) => ({ error }),
    );
    await killer;
    expect(terminated).toBe(1);
    const [counts] = await query<{ runs: number; tasks: number; distinct: number }>(
      `select (select count(*)::int from ${schema}.baton_runs) as runs, (select count(*)::int from ${schema}.baton_tasks) as tasks,
        (select count(distinct inputs->>'i')::int from ${schema}.baton_runs) as distinct`,
    );
    if ('runs' in outcome) {
      expect(outcome.runs).toHaveLength(n);
      expect(counts).toEqual({ runs: n, tasks: n, distinct: n });
    } else {
      expect(outcome.error).toBeInstanceOf(StoreUnavailableError);
      expect(counts).toEqual({ runs: 0, tasks: 0, distinct: 0 });
    }
  });

  it("openPgStore({ pool }) listens on the pool's own database, not the default one", async () => {
    const database = `baton_listen_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await query(`create database ${database}`);
    cleanups.push(() => query(`drop database if exists ${database} with (force)`));
    const url = PG_URL.replace(/\/[^/?]+(\?|$)/, `/${database}$1`);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    cleanups.push(() => pool.end());
    const store = await openPgStore({ pool, warn: () => {} });
    cleanups.push(() => store.close());
    let woken = 0;
    store.onTasksReady!(() => woken++);
    await waitFor(
      async () => (await query(`select 1 from pg_stat_activity where datname = $1 and query ilike 'listen%'`, [database])).length > 0,
      10_000,
      'the LISTEN connection on the pool database',
    );
    const before = woken;
    const other = await openPgStore({ connectionString: url, warn: () => {} });
    cleanups.push(() => other.close());
    const wf = await other.createWorkflow({ name: 'wake', steps: [{ name: 's' }] });
    await other.createRun({ workflowId: wf.id });
    await waitFor(() => woken > before, 10_000, 'a wake-up from the pool database');
  });
});
