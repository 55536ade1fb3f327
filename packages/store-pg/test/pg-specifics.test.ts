import { afterAll, describe, expect, it } from 'vitest';
import { SchemaVersionError, ValidationError, type Workflow } from '@baton/core';
import { openPgStore, explainClaim } from '@baton/store-pg';
import pg from 'pg';
import { until } from '@baton/test-kit';
import { PG_URL, dropSchemas, pgAvailable, query, schemaName } from './pg.js';
import { runOnce } from '../src/ops/run-once.js';

const available = await pgAvailable();
const schemas = new Set<string>();
afterAll(() => dropSchemas(schemas));
interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** EXPLAIN (ANALYZE unless told: a write would run) of a statement the store sent, in its schema: every node of the plan. */
async function explainPlan(schema: string, text: string, values: unknown[], analyze = true): Promise<PlanNode[]> {
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
      `explain (${analyze ? 'analyze, ' : ''}format json) ${text}`,
      values,
    );
    const all: PlanNode[] = [];
    const walk = (n: PlanNode) => {
      all.push(n);
      for (const c of n.Plans ?? []) walk(c);
    };
    walk(rows[0]!['QUERY PLAN'][0]!.Plan);
    return all;
  } finally {
    await client.end();
  }
}

/** The statements node-pg sends while `fn` runs whose text matches `pattern`, with their values. */
async function recordStatements(pattern: RegExp, fn: () => Promise<void>): Promise<{ text: string; values: unknown[] }[]> {
  const sent: { text: string; values: unknown[] }[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (typeof args[0] === 'string' && pattern.test(args[0])) sent.push({ text: args[0], values: (args[1] as unknown[]) ?? [] });
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return sent;
}

const fresh = () => {
  const s = schemaName('baton_pgspec');
  schemas.add(s);
  return s;
};

describe.skipIf(!available)('pg store: PostgreSQL specifics', () => {
  it('the claim plan reads the partial pending index, with mostly finished history', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const wf = await store.createWorkflow({ name: 'history', steps: [{ name: 's', taskCount: 2000 }] });
    const { run } = await store.createRun({ workflowId: wf.id });
    // Finish nearly everything so the table is mostly history.
    await query(`update ${schema}.baton_tasks set status = 'success' where run_id = $1 and task_index >= 20`, [run.id]);
    await query(`analyze ${schema}.baton_tasks`);
    const plan = await explainClaim({ connectionString: PG_URL, schema, limit: 10 });
    expect(plan).toContain('baton_tasks_pending_idx');
    expect(plan).toMatch(/LockRows/);
    const analyzed = await explainClaim({ connectionString: PG_URL, schema, limit: 10, analyze: true });
    expect(analyzed).toContain('actual time');
    // EXPLAIN ANALYZE ran in a rolled-back transaction: nothing was claimed.
    expect((await store.listTasks({ runId: run.id, status: 'dispatched' })).items).toHaveLength(0);
    await store.close();
  });

  it('right after a big fan-out, before autovacuum, the claim still walks the pending index instead of sorting every pending task', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    // The statistics autovacuum would have taken: an empty table, nothing pending.
    await query(`analyze ${schema}.baton_tasks, ${schema}.baton_workflows`);
    const wf = await store.createWorkflow({ name: 'burst', steps: [{ name: 's', taskCount: 5000 }] });
    await store.createRun({ workflowId: wf.id });
    const plan = await explainClaim({ connectionString: PG_URL, schema, limit: 50 });
    expect(plan).toMatch(/Index Scan using baton_tasks_pending_idx/);
    // The plan a stale estimate gave: every pending task fetched, then sorted for the first 50.
    expect(plan).not.toMatch(/Sort Key: t\.priority DESC/);
    // The statistics were refreshed by the run's own transaction.
    const [stats] = await query<{ reltuples: number }>(`select reltuples from pg_class where oid = '${schema}.baton_tasks'::regclass`);
    expect(Number(stats!.reltuples)).toBe(5000);
    // Column by column: the ANALYZE names the columns the claim's plan reads, and their statistics are fresh.
    const [status] = await query<{ vals: string }>(
      `select most_common_vals::text as vals from pg_stats where schemaname = $1 and tablename = 'baton_tasks' and attname = 'status'`,
      [schema],
    );
    expect(status?.vals).toBe('{pending}');
    await store.close();
  });

  it('the ANALYZE after a big insert samples at statistics target 30, not 100, and the claim still walks the pending index over history', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const wf = await store.createWorkflow({ name: 'sampled', steps: [{ name: 's' }] });
    // History: 12,000 finished single-task runs, analyzed at the server's own target.
    await store.createRuns(Array.from({ length: 12_000 }, () => ({ workflowId: wf.id })));
    await query(`update ${schema}.baton_tasks set status = 'success'`);
    await query(`update ${schema}.baton_runs set status = 'success'`);
    await query(`analyze ${schema}.baton_tasks, ${schema}.baton_runs`);
    // A histogram has one bound more than its statistics target: unique ids fill every bucket.
    const bounds = async (table: string) => {
      const [row] = await query<{ n: number }>(
        `select array_length(histogram_bounds, 1) as n from pg_stats where schemaname = $1 and tablename = $2 and attname = 'id'`,
        [schema, table],
      );
      return row?.n;
    };
    expect(await bounds('baton_tasks')).toBe(101);
    await store.createRuns(Array.from({ length: 2000 }, () => ({ workflowId: wf.id })));
    expect(await bounds('baton_tasks')).toBe(31);
    expect(await bounds('baton_runs')).toBe(31);
    const [status] = await query<{ vals: string }>(
      `select most_common_vals::text as vals from pg_stats where schemaname = $1 and tablename = 'baton_tasks' and attname = 'status'`,
      [schema],
    );
    expect(status?.vals).toBe('{success,pending}');
    const plan = await explainClaim({ connectionString: PG_URL, schema, limit: 50 });
    expect(plan).toMatch(/Index Scan using baton_tasks_pending_idx/);
    expect(plan).not.toMatch(/Sort Key: t\.priority DESC/);
    await store.close();
  });

  it('after triggerMany of many single-task runs, the claim starts their runs by primary key, not by reading every pending run', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    // The statistics autovacuum would have taken: nothing pending anywhere.
    await query(`analyze ${schema}.baton_tasks, ${schema}.baton_runs, ${schema}.baton_workflows`);
    const wf = await store.createWorkflow({ name: 'singles', steps: [{ name: 's' }] });
    await store.createRuns(Array.from({ length: 3000 }, () => ({ workflowId: wf.id })));
    const plan = await explainClaim({ connectionString: PG_URL, schema, limit: 50, running: true, analyze: true });
    // Measured before: "Bitmap Index Scan on baton_runs_status_idx … rows=20000" for a claim of 50 (9 ms of 11).
    expect(plan).not.toContain('baton_runs_status_idx');
    expect(plan).toMatch(/Index Scan using baton_runs_pkey on baton_runs r_1/);
    const [stats] = await query<{ reltuples: number }>(`select reltuples from pg_class where oid = '${schema}.baton_runs'::regclass`);
    expect(Number(stats!.reltuples)).toBe(3000);
    await store.close();
  });

  it('a createRuns whose later insert part fails rolls back every part, and its error reaches the caller', async () => {
    // store-sql queues 5,000-row parts one behind the other while it builds the next: a failure in a
    // later part must skip the parts behind it, reject the call (no unhandled rejection) and leave nothing.
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const wf = await store.createWorkflow({ name: 'parts', steps: [{ name: 's' }] });
    await query(`create function ${schema}.refuse_run() returns trigger language plpgsql as $$
      begin raise exception 'refused run %', new.inputs->>'i'; end $$`);
    await query(`create trigger refuse before insert on ${schema}.baton_runs for each row
      when ((new.inputs->>'i')::int = 7000) execute function ${schema}.refuse_run()`);
    const error = await store
      .createRuns(Array.from({ length: 12_000 }, (_, i) => ({ workflowId: wf.id, inputs: { i } })))
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/refused run 7000/);
    const [counts] = await query<{ runs: number; tasks: number }>(
      `select (select count(*)::int from ${schema}.baton_runs) as runs, (select count(*)::int from ${schema}.baton_tasks) as tasks`,
    );
    expect(counts).toEqual({ runs: 0, tasks: 0 });
    // The store is still usable: the same call without the refused run goes through.
    await query(`drop trigger refuse on ${schema}.baton_runs`);
    expect(await store.createRuns(Array.from({ length: 6000 }, (_, i) => ({ workflowId: wf.id, inputs: { i } })))).toHaveLength(6000);
    await store.close();
  });

  it('without per-row keys on runs, tasks and logs (migration 009), deleting runs deletes their tasks, task order (011), steps and logs, and a workflow with runs cannot be deleted', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const keys = await query<{ conname: string }>(
      `select conname from pg_constraint where contype = 'f' and connamespace = $1::regnamespace`,
      [schema],
    );
    expect(keys.map((k) => k.conname)).toEqual(['baton_run_steps_run_id_fkey']);
    const wf = await store.createWorkflow({
      name: 'kept',
      steps: [
        { name: 'a', taskCount: 3 },
        { name: 'b', dependsOn: ['a'] },
      ],
    });
    const other = await store.createWorkflow({ name: 'other', steps: [{ name: 's' }] });
    const { run: doomed } = await store.createRun({ workflowId: wf.id });
    const { run: kept } = await store.createRun({ workflowId: wf.id });
    const [keptOther] = await store.createRuns([{ workflowId: other.id }]);
    await store.appendLogs([{ runId: doomed.id, taskId: null, type: 'info', content: 'doomed' }]);
    const count = async (table: string, runId: string) =>
      (await query<{ n: number }>(`select count(*)::int as n from ${schema}.${table} where run_id = $1`, [runId]))[0]!.n;
    expect([
      await count('baton_tasks', doomed.id),
      await count('baton_run_tasks', doomed.id),
      await count('baton_run_steps', doomed.id),
      await count('baton_logs', doomed.id),
    ]).toEqual([4, 4, 2, 1]);

    // A workflow that still has runs: refused with the foreign key's error, nothing deleted.
    const refused = await query(`delete from ${schema}.baton_workflows where id = $1`, [wf.id]).catch((e: unknown) => e);
    expect((refused as { code?: string }).code).toBe('23503');
    expect((refused as Error).message).toMatch(/still has runs/);
    expect((await store.getWorkflow(wf.id)).name).toBe('kept');

    // Deleting runs (one statement, as an archive job would) takes their tasks, steps and logs, and only theirs.
    await query(`delete from ${schema}.baton_runs where id = $1`, [doomed.id]);
    expect([
      await count('baton_tasks', doomed.id),
      await count('baton_run_tasks', doomed.id),
      await count('baton_run_steps', doomed.id),
      await count('baton_logs', doomed.id),
    ]).toEqual([0, 0, 0, 0]);
    expect(await count('baton_tasks', kept.id)).toBe(4);
    expect(await count('baton_run_tasks', kept.id)).toBe(4);
    expect(await count('baton_tasks', keptOther!.run.id)).toBe(1);
    await query(`delete from ${schema}.baton_runs where workflow_id = $1`, [wf.id]);
    await query(`delete from ${schema}.baton_workflows where id = $1`, [wf.id]);
    expect(await count('baton_tasks', kept.id)).toBe(0);
    expect((await store.getWorkflow(other.id)).name).toBe('other');
    await store.close();
  });

  it('a workflow deleted while a trigger of it is in flight waits for its commit, then is refused: no run is left without its workflow', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const wf = await store.createWorkflow({ name: 'raced', steps: [{ name: 's' }] });
    let deleting: Promise<unknown> | undefined;
    let settledBeforeCommit = false;
    await store.transaction(async (tx) => {
      await tx.createRun({ workflowId: wf.id });
      // The trigger holds the workflow FOR KEY SHARE: the delete waits for this transaction.
      deleting = query(`delete from ${schema}.baton_workflows where id = $1`, [wf.id]).then(
        () => 'deleted',
        (e: { code?: string }) => e.code,
      );
      void deleting.then(() => {
        settledBeforeCommit = true;
      });
      await new Promise((r) => setTimeout(r, 300));
    });
    expect(settledBeforeCommit).toBe(false);
    expect(await deleting).toBe('23503');
    const [orphans] = await query<{ n: number }>(
      `select count(*)::int as n from ${schema}.baton_runs r where not exists (select 1 from ${schema}.baton_workflows w where w.id = r.workflow_id)`,
    );
    expect(orphans!.n).toBe(0);
    await store.close();
  });

  it('a run deleted while logs of it are being appended waits for their commit, then takes them along: no log is left without its run', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const wf = await store.createWorkflow({ name: 'logged', steps: [{ name: 's' }] });
    const { run } = await store.createRun({ workflowId: wf.id });
    let deleting: Promise<unknown> | undefined;
    let settledBeforeCommit = false;
    await store.transaction(async (tx) => {
      await tx.appendLogs([{ runId: run.id, taskId: null, type: 'info', content: 'late' }]);
      // appendLogs holds the run FOR KEY SHARE: the delete waits for this transaction.
      deleting = query(`delete from ${schema}.baton_runs where id = $1`, [run.id]).then(() => 'deleted');
      void deleting.then(() => {
        settledBeforeCommit = true;
      });
      await new Promise((r) => setTimeout(r, 300));
    });
    expect(settledBeforeCommit).toBe(false);
    expect(await deleting).toBe('deleted');
    expect(await query(`select id from ${schema}.baton_logs where run_id = $1`, [run.id])).toEqual([]);
    await store.close();
  });

  it('a finish locks its run before the step counters and the dependents’ waiting tasks, the order cancelRun takes them in', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const wf = await store.createWorkflow({
      name: 'ordered',
      steps: [
        { name: 'a', taskCount: 2 },
        { name: 'b', dependsOn: ['a'] },
      ],
    });
    const rows = {
      run: `select 1 from ${schema}.baton_runs where id = $1`,
      step: `select 1 from ${schema}.baton_run_steps where run_id = $1 and step_name = 'a'`,
      waiting: `select 1 from ${schema}.baton_tasks where run_id = $1 and step_name = 'b'`,
    };
    const held: Record<string, string[]> = {};
    for (const blocker of ['run', 'step', 'waiting'] as const) {
      const { run } = await store.createRun({ workflowId: wf.id });
      const claimed = (await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 60_000 })).filter((c) => c.task.runId === run.id);
      const holder = new pg.Client({ connectionString: PG_URL });
      const prober = new pg.Client({ connectionString: PG_URL });
      await Promise.all([holder.connect(), prober.connect()]);
      await holder.query('begin');
      await holder.query(`${rows[blocker]} for update`, [run.id]);
      // The finish stops at the row held; the rows it already locked refuse a NOWAIT lock.
      const finishing = store.finishTasks(
        claimed.map((c) => ({ taskId: c.task.id, leaseId: c.task.leaseId!, status: 'success', output: 1 })),
      );
      await new Promise((r) => setTimeout(r, 300));
      held[blocker] = [];
      for (const [name, text] of Object.entries(rows)) {
        if (name === blocker) continue;
        await prober.query('begin');
        const locked = await prober.query(`${text} for update nowait`, [run.id]).then(
          () => false,
          (e: { code?: string }) => e.code === '55P03',
        );
        await prober.query('rollback');
        if (locked) held[blocker].push(name);
      }
      await holder.query('rollback');
      expect((await finishing).outcomes.every((o) => o.accepted)).toBe(true);
      await Promise.all([holder.end(), prober.end()]);
    }
    expect(held).toEqual({ run: [], step: ['run'], waiting: ['run', 'step'] });
    await store.close();
  });

  it('baton_tasks leaves half of each page free (migration 010): a claimed task’s new version stays on its page', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const [table] = await query<{ reloptions: string[] | null }>(
      `select c.reloptions from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = 'baton_tasks'`,
      [schema],
    );
    expect(table!.reloptions).toEqual(['fillfactor=50']);
    // 200 tasks fill several pages. Filled to the brim (fill factor 100), every claimed
    // version moved to another page (0 of 200 stayed, measured); at 50, 160 of 200 stay
    // (a claimed row is 208 bytes against a pending one's 160).
    const wf = await store.createWorkflow({ name: 'pages', steps: [{ name: 's', taskCount: 200 }] });
    await store.createRun({ workflowId: wf.id });
    const pages = async () =>
      new Map(
        (await query<{ id: string; page: number }>(`select id, (ctid::text::point)[0]::int as page from ${schema}.baton_tasks`)).map(
          (r) => [r.id, r.page],
        ),
      );
    const before = await pages();
    expect(new Set(before.values()).size).toBeGreaterThanOrEqual(5);
    expect(await store.claimTasks({ workerId: 'w', limit: 200, leaseMs: 30_000, running: true })).toHaveLength(200);
    const after = await pages();
    const stayed = [...before].filter(([id, page]) => after.get(id) === page).length;
    expect(stayed).toBeGreaterThanOrEqual(150);
    await store.close();
  });

  it('a run’s tasks are found through baton_run_tasks by its key (migration 011): listing, step outputs, cancel and retry read no other run’s tasks', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const wf = await store.createWorkflow({
      name: 'fan',
      steps: [
        { name: 'a', taskCount: 3 },
        { name: 'b', dependsOn: ['a'] },
      ],
    });
    // History around the run: 20,000 tasks of other runs.
    const single = await store.createWorkflow({ name: 'single', steps: [{ name: 'only' }] });
    await store.createRuns(Array.from({ length: 10_000 }, () => ({ workflowId: single.id })));
    const { run } = await store.createRun({ workflowId: wf.id });
    await store.createRuns(Array.from({ length: 10_000 }, () => ({ workflowId: single.id })));

    // Every statement that reads a run's tasks, to EXPLAIN.
    const reads = await recordStatements(/baton_run_tasks/, async () => {
      const page = await store.listTasks({ runId: run.id, limit: 2 });
      expect(page.items.map((t) => [t.stepName, t.taskIndex])).toEqual([
        ['a', 0],
        ['a', 1],
      ]);
      const rest = await store.listTasks({ runId: run.id, limit: 2, cursor: page.nextCursor! });
      expect(rest.items.map((t) => [t.stepName, t.taskIndex])).toEqual([
        ['a', 2],
        ['b', 0],
      ]);
      expect(await store.getStepOutputs(run.id, ['a'])).toEqual({ a: [] });
      await store.cancelRun(run.id);
      expect((await store.listTasks({ runId: run.id })).items.map((t) => t.status)).toEqual([
        'cancelled',
        'cancelled',
        'cancelled',
        'cancelled',
      ]);
      await store.retryRun(run.id);
      expect((await store.listTasks({ runId: run.id })).items.map((t) => t.status)).toEqual(['pending', 'pending', 'pending', 'waiting']);
    });
    // Two pages, step outputs, cancel's update, a listing, retry's count and its two updates, a listing.
    expect(reads).toHaveLength(9);
    for (const { text, values } of reads) {
      const nodes = await explainPlan(schema, text, values, false);
      const shown = `${text}\n${JSON.stringify(nodes.map((n) => [n['Node Type'], n['Index Name']]))}`;
      expect(
        nodes.some((n) => n['Index Name'] === 'baton_run_tasks_pk'),
        shown,
      ).toBe(true);
      expect(
        nodes.filter((n) => n['Node Type'] === 'Seq Scan'),
        shown,
      ).toEqual([]);
    }
    await store.close();
  });

  it('on PostgreSQL, baton_runs has no trigger indexes (each would cost an entry at every status change)', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const indexes = (
      await query<{ indexname: string }>(`select indexname from pg_indexes where schemaname = $1 and tablename = 'baton_runs'`, [schema])
    ).map((r) => r.indexname);
    expect(indexes).toContain('baton_runs_workflow_status_idx');
    expect(indexes).not.toContain('baton_runs_trigger_idx');
    expect(indexes).not.toContain('baton_runs_workflow_trigger_idx');
    // The filter itself still answers.
    const wf = await store.createWorkflow({ name: 'by-trigger', steps: [{ name: 's' }] });
    await store.createRun({ workflowId: wf.id, triggeredBy: 'webhook' });
    await store.createRun({ workflowId: wf.id, triggeredBy: 'api' });
    expect((await store.listRuns({ triggeredBy: 'webhook' })).items.map((r) => r.triggeredBy)).toEqual(['webhook']);
    await store.close();
  });

  it('a workflow’s runs at 100k runs: one limited ordered range per status, merged (no index by workflow alone, no sort of its runs)', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    const workflows: Workflow[] = [];
    for (const name of ['etl', 'report', 'sync']) workflows.push(await store.createWorkflow({ name, steps: [{ name: 's' }] }));
    // Seeded in one statement: ids in creation order (UUIDv7-like), workflows and statuses spread.
    await query(
      `insert into ${schema}.baton_runs (id, workflow_id, workflow_name, status, inputs, triggered_by, tasks_total, tasks_finished,
         tasks_failed, metadata, created_at, updated_at)
       select ('00000000-0000-7000-8000-' || lpad(i::text, 12, '0'))::uuid, ($1::uuid[])[i % 3 + 1], 'w',
         case when i % 50 = 0 then 'failed' when i % 97 = 0 then 'cancelled' when i % 1000 = 0 then 'running' else 'success' end,
         '{}', 'api', 1, 1, 0, '{}', i, i
       from generate_series(1, 100000) i`,
      [workflows.map((w) => w.id)],
    );
    await query(`analyze ${schema}.baton_runs`);
    const indexes = (
      await query<{ indexname: string }>(`select indexname from pg_indexes where schemaname = $1 and tablename = 'baton_runs'`, [schema])
    ).map((r) => r.indexname);
    expect(indexes).not.toContain('baton_runs_workflow_idx');
    // The statement the store sends, as node-pg sees it.
    let page: Awaited<ReturnType<typeof store.listRuns>> | undefined;
    const sent = await recordStatements(/baton_runs/, async () => {
      page = await store.listRuns({ workflowId: workflows[0]!.id, limit: 50 });
      await store.listRuns({ workflowId: workflows[0]!.id, limit: 50, cursor: page.nextCursor! });
    });
    page = page!;
    expect(page.items).toHaveLength(50);
    expect(page.items.every((r) => r.workflowId === workflows[0]!.id)).toBe(true);
    expect(sent).toHaveLength(2);
    for (const { text, values } of sent) {
      const nodes = await explainPlan(schema, text, values);
      expect(nodes.some((n) => n['Node Type'] === 'Merge Append')).toBe(true);
      expect(nodes.some((n) => n['Node Type'] === 'Sort')).toBe(false);
      const scans = nodes.filter((n) => n['Node Type'].startsWith('Index'));
      expect(scans).toHaveLength(6);
      // About a page is read (the planner may walk the primary key backwards for the commonest
      // status, filtering), not the workflow's ~33,000 runs.
      const read = scans.reduce((sum, n) => sum + n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0), 0);
      expect(read).toBeLessThan(1000);
    }
    await store.close();
  });

  it('several processes opening a fresh schema at once migrate it once', async () => {
    const schema = fresh();
    const stores = await Promise.all(Array.from({ length: 5 }, () => openPgStore({ connectionString: PG_URL, schema, poolSize: 2 })));
    const rows = await query<{ name: string }>(`select name from ${schema}.baton_migrations`);
    // Each migration applied once, whatever migrations other issues add.
    const names = rows.map((r) => r.name);
    expect(names[0]).toBe('001_initial');
    expect(names).toContain('002_waiting_tasks_idx');
    expect(names).toContain('003_run_filter_indexes');
    expect(names).toContain('004_limits');
    expect(names).toContain('005_pg_drop_run_trigger_indexes');
    expect(new Set(names).size).toBe(names.length);
    await stores[0]!.createWorkflow({ name: 'after-race', steps: [{ name: 's' }] });
    expect((await stores[4]!.findWorkflow('after-race'))?.name).toBe('after-race');
    await Promise.all(stores.map((s) => s.close()));
  });

  it('wakes listeners on NOTIFY, and again after the LISTEN connection is terminated', async () => {
    const schema = fresh();
    const warnings: string[] = [];
    // A name of its own, so the test terminates this store's LISTEN connection and no other.
    const app = `listen_${process.pid}_${Date.now()}`;
    const store = await openPgStore({ connectionString: `${PG_URL}?application_name=${app}`, schema, warn: (m) => warnings.push(m) });
    const other = await openPgStore({ connectionString: PG_URL, schema });
    let wakes = 0;
    const unsubscribe = store.onTasksReady!(() => wakes++);
    const wf = await other.createWorkflow({ name: 'wake', steps: [{ name: 's' }] });
    await until(() => wakes >= 1, 10_000, 'the first connect wake-up');
    const before = wakes;
    await other.createRun({ workflowId: wf.id });
    await until(() => wakes > before, 10_000, 'a NOTIFY from another handle');
    await query(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and query like 'LISTEN baton_tasks_ready%'`,
      [app],
    );
    await until(() => warnings.some((w) => w.includes('lost')), 10_000, 'the outage warning');
    await until(() => warnings.some((w) => w.includes('restored')), 10_000, 'the reconnect');
    const afterReconnect = wakes;
    await other.createRun({ workflowId: wf.id });
    await until(() => wakes > afterReconnect, 10_000, 'a NOTIFY after reconnecting');
    expect(warnings.filter((w) => w.includes('lost'))).toHaveLength(1);
    unsubscribe();
    await store.close();
    await other.close();
  });

  it('a paused workflow resumed through one handle wakes the listeners of another: its pending tasks are claimable now, not at their next poll', async () => {
    // A database of its own: NOTIFY reaches every listener of a database, and other test
    // files trigger runs in the shared one meanwhile.
    const database = schemaName('baton_resume');
    await query(`create database ${database}`);
    const url = new URL(PG_URL);
    url.pathname = `/${database}`;
    const watcher = await openPgStore({ connectionString: url.href });
    const writer = await openPgStore({ connectionString: url.href });
    try {
      const wf = await writer.createWorkflow({ name: 'resume', steps: [{ name: 's' }] });
      await writer.updateWorkflow(wf.id, { status: 'paused' });
      await writer.createRun({ workflowId: wf.id });
      // Subscribed after the run's own NOTIFY (the LISTEN connection opens on the first
      // subscription): only the resume can wake it, once the connect's own wake-up is in.
      let wakes = 0;
      const unsubscribe = watcher.onTasksReady!(() => wakes++);
      await until(() => wakes >= 1, 10_000, 'the connect wake-up');
      const before = wakes;
      // A patch that keeps it paused tells nobody; the resume does.
      await writer.updateWorkflow(wf.id, { description: 'still paused' });
      await new Promise((r) => setTimeout(r, 200));
      expect(wakes).toBe(before);
      await writer.updateWorkflow(wf.id, { status: 'active' });
      await until(() => wakes > before, 10_000, 'the resume wake-up');
      expect(await watcher.claimTasks({ workerId: 'w', limit: 5, leaseMs: 60_000 })).toHaveLength(1);
      unsubscribe();
    } finally {
      await watcher.close();
      await writer.close();
      await query(`drop database if exists ${database} with (force)`);
    }
  });

  it('hot-path rows shaped from arrays are the objects node-pg gives: parsed types, nulls, a later duplicate name winning', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    try {
      const text = `select $1::bigint as n, null::text as t, '{"k":[1]}'::jsonb as j, 1 as dup, 2 as dup, true as "__proto__"`;
      const byNodePg = (await pool.query(text, [42])).rows;
      // Without a Kysely transaction (isTransaction false) runOnce takes the pool's prepared path.
      const shaped = await runOnce<Record<string, unknown>>({ isTransaction: false } as never, pool, text, [42]);
      expect(shaped).toEqual(byNodePg);
      expect(shaped[0]).toEqual(
        Object.fromEntries([
          ['n', '42'],
          ['t', null],
          ['j', { k: [1] }],
          ['dup', 2],
          ['__proto__', true],
        ]),
      );
    } finally {
      await pool.end();
    }
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(openPgStore({ connectionString: PG_URL, schema: 'bad; drop table x' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe.skipIf(!available)('pg store: typed errors and schemas on open', () => {
  it('bad options: ValidationError naming the option, before connecting', async () => {
    const cases: [unknown, string][] = [
      [{ connectionString: 'not a url' }, 'connectionString'],
      [{ connectionString: 'http://127.0.0.1/test' }, 'connectionString'],
      [{ connectionString: PG_URL, poolSize: 0 }, 'poolSize'],
      [{ connectionString: PG_URL, poolSize: 2.5 }, 'poolSize'],
      [{ connectionString: PG_URL, migrate: 'no' }, 'migrate'],
      [{ connectionString: PG_URL, schema: 'Bad-Name' }, 'schema'],
      [{ connectionString: PG_URL, pool: {} }, 'pool'],
      [{ connectionString: PG_URL, poolsize: 3 }, 'poolsize'],
    ];
    for (const [options, field] of cases) {
      const error = await openPgStore(options as never).catch((e) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect(error.field, JSON.stringify(options)).toBe(field);
    }
  });

  it('a schema a newer Baton migrated: SchemaVersionError naming it; migrate: false then use: SchemaVersionError until migrate()', async () => {
    const schema = fresh();
    const store = await openPgStore({ connectionString: PG_URL, schema });
    await store.createWorkflow({ name: 'kept', steps: [{ name: 's' }] });
    await store.close();
    await query(`insert into ${schema}.baton_migrations (name, timestamp) values ('999_from_the_future', 'x')`);
    const error = await openPgStore({ connectionString: PG_URL, schema }).catch((e) => e);
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect(error.message).toContain(`"${schema}"`);
    expect(error.unknown).toEqual(['999_from_the_future']);
    expect(await query(`select name from ${schema}.baton_workflows`)).toEqual([{ name: 'kept' }]);

    const empty = fresh();
    const unmigrated = await openPgStore({ connectionString: PG_URL, schema: empty, migrate: false });
    const write = await unmigrated.createWorkflow({ name: 'w', steps: [{ name: 's' }] }).catch((e) => e);
    expect(write).toBeInstanceOf(SchemaVersionError);
    expect(write.pending[0]).toBe('001_initial'); // and every later migration
    await unmigrated.migrate();
    expect((await unmigrated.createWorkflow({ name: 'w', steps: [{ name: 's' }] })).name).toBe('w');
    await unmigrated.close();
  });

  it('the default schema opens in a database where another Baton schema already exists', async () => {
    // A database of its own: the default schema of the shared test database belongs to nobody's test.
    const database = schemaName('baton_db');
    await query(`create database ${database}`);
    const url = new URL(PG_URL);
    url.pathname = `/${database}`;
    try {
      const other = await openPgStore({ connectionString: url.href, schema: 'some_app_jobs' });
      await other.createWorkflow({ name: 'in-other-schema', steps: [{ name: 's' }] });
      await other.close();
      const store = await openPgStore({ connectionString: url.href });
      await store.createWorkflow({ name: 'in-public', steps: [{ name: 's' }] });
      expect((await store.listWorkflows()).items.map((w) => w.name)).toEqual(['in-public']);
      await store.close();
      const again = await openPgStore({ connectionString: url.href });
      expect((await again.listWorkflows()).items.map((w) => w.name)).toEqual(['in-public']);
      await again.close();
    } finally {
      await query(`drop database if exists ${database} with (force)`);
    }
  });
});

describe.skipIf(!available)('pg store: opening beside other schemas that come and go', () => {
  it('opens while other schemas of the database are created and dropped all the time', async () => {
    const pgModule = (await import('pg')).default;
    let churning = true;
    const churn = async (id: number) => {
      const client = new pgModule.Client({ connectionString: PG_URL });
      await client.connect();
      for (let i = 0; churning; i++) {
        const name = `${schemaName('baton_churn')}_${id}_${i}`;
        await client.query(`create schema ${name}; create table ${name}.t (id serial primary key, v text)`);
        await client.query(`drop schema ${name} cascade`);
      }
      await client.end();
    };
    const churners = [churn(1), churn(2)];
    const failures: string[] = [];
    try {
      for (let i = 0; i < 15; i++) {
        const schema = fresh();
        try {
          const store = await openPgStore({ connectionString: PG_URL, schema, poolSize: 2 });
          await store.close();
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    } finally {
      churning = false;
      await Promise.all(churners);
    }
    expect(failures).toEqual([]);
  });
});
