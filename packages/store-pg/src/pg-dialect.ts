import { sql } from 'kysely';
import type pg from 'pg';
import {
  byClaimOrder,
  leaseReturns,
  leaseSet,
  leaseValues,
  type ClaimRow,
  type Db,
  type LeaseOptions,
  type SqlDialect,
} from '@baton/store-sql';
import { isConnectionError } from './pg-faults.js';
import { idParam } from './pg-ids.js';
import { finishTasks, markRunning } from './ops/finish.js';
import { TASKS_READY_CHANNEL, runOnce } from './ops/run-once.js';

export { TASKS_READY_CHANNEL };

/**
 * A run inserting at least this many tasks refreshes baton_tasks' statistics.
 * Autovacuum would, but only a minute or more later; meanwhile the planner,
 * still believing almost nothing is pending, sorts every pending task on each
 * claim (measured: 26 ms instead of 2.4 ms per claim with 20,000 pending).
 */
const ANALYZE_AFTER_TASKS = 1000;

/**
 * The statistics target of that ANALYZE (PostgreSQL's default is 100): it
 * samples 300 rows per unit, so 9,000 rows instead of 30,000 a table. It is
 * there to tell the planner how many tasks and runs are pending now, which a
 * 9,000-row sample does as well (the claim's plans were the same at 30 and 100
 * over 300,000 finished tasks with 1,000 new); autovacuum's own ANALYZE later
 * takes the full sample. Measured, `triggerMany` of 20,000 single-task runs
 * after a 20,000-task fan-out, three pairs: the ANALYZE 34–51 → 12–19 ms,
 * the call 444–452 → 415–426 ms.
 */
const ANALYZE_STATISTICS_TARGET = 30;

const CAST_TYPES = { json: 'jsonb', int: 'integer', ms: 'bigint', id: 'uuid' } as const;

/** PostgreSQL's side of the SQL store: jsonb, BIGINT times, SKIP LOCKED claims, NOTIFY. */
export const pgDialect: SqlDialect = {
  name: 'pg',
  types: { json: 'jsonb', ms: 'bigint', logId: 'bigserial' },
  // node-pg would send a JS array as a PostgreSQL array and a string as text: send JSON text.
  encodeJson: (value) => JSON.stringify(value),
  // jsonb arrives parsed; a JSON string stays a string.
  decodeJson: (value) => value,
  isUniqueViolation: (error) => (error as { code?: string })?.code === '23505',
  transaction: retryTransaction,
  // VALUES columns and bare parameters arrive as text: say what they are.
  cast: (value, type) => sql`cast(${value} as ${sql.raw(CAST_TYPES[type])})`,
  idParam,
  // The caller sorts the keys: every claimer locks them in one order. SKIP LOCKED: a key another
  // claimer is assigning now is left to it rather than waited for.
  lockLimitKeys: async (db, keys) => {
    const { rows } = await sql<{ kind: 'concurrency' | 'rate'; key: string }>`
      select l.kind, l.key from baton_limit_keys l
      join unnest(${keys.map((k) => k.kind)}::text[], ${keys.map((k) => k.key)}::text[]) as k(kind, key) on k.kind = l.kind and k.key = l.key
      order by l.kind, l.key
      for update of l skip locked`.execute(db);
    return rows;
  },
  lockTasksInOrder: (taskIds) => sql`select id from baton_tasks where id = any(${taskIds}::uuid[]) order by id for update`,
  // Delivered when the surrounding transaction commits, which is when the tasks are claimable.
  notifyTasksReady: async (db) => {
    await sql`select pg_notify(${TASKS_READY_CHANNEL}, '')`.execute(db);
  },
  // The table's own row type types every column (jsonb from JSON values, bigint from numbers), the
  // varying ones from one row of JSON a row, the constant ones from one JSON object: one row
  // joined to every row. A missing key reads as NULL.
  // A copy into a second table reads the insert's RETURNING in the same statement: no second
  // document to build, send and parse (triggerMany of 20,000 single-task runs with their
  // baton_run_tasks rows as a document of their own: 413–536 ms against 339–453 without them).
  insertJsonRows: async (db, table, { columns, constant, varying }, copy) => {
    const type = sql.table(table);
    const select = sql.raw(columns.map((c) => (Object.hasOwn(constant, c) ? `c.${c}` : `v.${c}`)).join(', '));
    const insert = sql`insert into ${type} (${sql.raw(columns.join(', '))}) select ${select}
      from json_populate_recordset(null::${type}, ${varying}::json) v, json_populate_record(null::${type}, ${JSON.stringify(constant)}::json) c`;
    if (!copy) return void (await insert.execute(db));
    const sources = sql.raw(Object.values(copy.columns).join(', '));
    await sql`with inserted as (${insert} returning ${sources})
      insert into ${sql.table(copy.table)} (${sql.raw(Object.keys(copy.columns).join(', '))}) select ${sources} from inserted`.execute(db);
  },
  claim: (db, o) => claim(undefined, db, o),
  claimIsOneStatement: true,
  leaseTasks,
  rowLocks: true,
  boundLockWait: async (db, ms) => {
    await sql`select set_config('lock_timeout', ${`${ms}ms`}, true)`.execute(db);
  },
  finishTasks: (db, results, now) => finishTasks(undefined, db, results, now),
  markRunning: (db, items, now) => markRunning(undefined, db, items, now),
  // ANALYZE inside the transaction counts its own uncommitted rows as live, so
  // the statistics are right the moment the tasks become visible. The claim
  // joins baton_workflows, a table too small for autovacuum ever to analyze; baton_runs
  // too, so a triggerMany's thousands of pending runs are not believed to be a few dozen.
  // Only the columns the hot path's plans depend on: the JSON columns cost the most to sample
  // and no Baton plan reads their statistics (40,000 tasks and runs: 85–91 ms against
  // 182–217 ms for whole tables, ~10% of a 20,000-run triggerMany). Autovacuum's own
  // ANALYZE refreshes the rest later.
  // The statistics target is set for the rest of this transaction (set_config's `true`): only
  // ANALYZE reads it.
  afterTasksInserted: async (db, count) => {
    if (count < ANALYZE_AFTER_TASKS) return;
    await sql`select set_config('default_statistics_target', ${String(ANALYZE_STATISTICS_TARGET)}, true)`.execute(db);
    await sql`analyze baton_tasks (id, run_id, workflow_id, step_name, status, priority, run_at, concurrency_key, rate_key, lease_expires_at),
        baton_runs (id, workflow_id, status), baton_workflows`.execute(db);
  },
};

/**
 * The SELECT over a `claimed` CTE (leased task rows) that returns each with its
 * workflow and its run's inputs. The batch's workflows and runs travel once,
 * as two JSON arrays on its first row (`row_number() over ()`, no sort): a
 * batch of one fan-out would otherwise carry the same definition and inputs
 * 500 times. Each workflow and run is read once, by primary key. Before, each
 * rode on its first task's row, found by `row_number()` over partitions by
 * workflow and by run: two sorts of the whole batch, and with the final ORDER
 * BY a third (now `byClaimOrder`, in JavaScript): a 500-task claim 7.4 → 6.4 ms
 * (fan-out) and 7.6 → 6.9 ms (single-task runs), medians of 15 EXPLAIN ANALYZE.
 *
 * When the claim starts runs, each row says whether the `started` CTE started
 * its run: its RETURNING, not the run's status in the statement's snapshot,
 * which two claimers of one run's tasks both see pending. Otherwise each run
 * says whether it is still pending (deferRunStart).
 */
const withWorkflowsAndRuns = (starts: boolean) => sql`
    select c.*, ${starts ? sql`c.run_id in (select id from started)` : sql`false`} as baton_run_started,
      case when row_number() over () = 1 then (
        select json_agg(row_to_json(w)) from baton_workflows w where w.id = any(array(select distinct workflow_id from claimed))
      ) end as baton_workflows,
      case when row_number() over () = 1 then (
        select json_agg(json_build_array(r.id, r.inputs, r.triggered_by, ${starts ? sql`false` : sql`r.status = 'pending'`}))
        from baton_runs r where r.id = any(array(select distinct run_id from claimed))
      ) end as baton_runs
    from claimed c`;

/**
 * The pending-task query as one statement. `picked` walks the partial index
 * `baton_tasks_pending_idx` (pending rows only, in claim order) and locks what
 * it takes with SKIP LOCKED, so concurrent claimers pass over each other's rows
 * instead of waiting; `claimed` leases them; the outer SELECT returns each with
 * its workflow and its run's inputs. One round trip.
 */
export function claimStatement(o: Parameters<SqlDialect['claim']>[1]) {
  const onlyWorkflows = o.workflowIds ? sql`and t.workflow_id = any(${o.workflowIds.map(idParam)}::uuid[])` : sql``;
  const notWorkflows = o.excludeWorkflowIds?.length
    ? sql`and not (t.workflow_id = any(${o.excludeWorkflowIds.map(idParam)}::uuid[]))`
    : sql``;
  return sql<ClaimStatementRow>`
    with picked as (
      select t.id from baton_tasks t
      join baton_workflows w on w.id = t.workflow_id
      where t.status = 'pending' and t.run_at <= ${o.now} and w.status = 'active' ${onlyWorkflows} ${notWorkflows}
        and t.concurrency_key is null and t.rate_key is null
      order by t.priority desc, t.run_at, t.id
      limit ${o.limit}
      for update of t skip locked
    ), claimed as (
      update baton_tasks t set ${leaseSet(o)}
      where t.id = any(array(select id from picked))
      returning ${leasedColumns(o)}
    )${startsRuns(o) ? startRuns(o.now) : sql``}
    ${withWorkflowsAndRuns(startsRuns(o))}`;
}

/** A claim with `running` starts its tasks' pending runs in the same statement, unless it defers them (ClaimOptions.deferRunStart). */
const startsRuns = (o: { running?: boolean; deferRunStart?: boolean }) => o.running === true && o.deferRunStart !== true;

/**
 * The columns of a leased task the claim does not know already: the ones
 * `leaseSet` writes with the claim's own values travel back as nothing and
 * are filled in from `leaseValues` (store-sql's lease.ts, shared with SQLite).
 */
const leasedColumns = (o: { running?: boolean }) => sql.raw(leaseReturns(o, 't.'));

/**
 * Leases the given pending tasks (chosen by the limited claim, under its key
 * locks) as the plain claim does, runs started too with `running`, and returns
 * them with their workflows and runs: one statement.
 */
async function leaseTasks(db: Db, ids: string[], o: Parameters<NonNullable<SqlDialect['leaseTasks']>>[2]): Promise<ClaimRow[]> {
  const { rows } = await sql<ClaimStatementRow>`
    with claimed as (
      update baton_tasks t set ${leaseSet(o)}
      where t.id = any(${ids}) and t.status = 'pending'
      returning ${leasedColumns(o)}
    )${startsRuns(o) ? startRuns(o.now) : sql``}
    ${withWorkflowsAndRuns(startsRuns(o))}`.execute(db);
  return decodeClaimRows(rows, o);
}

/**
 * The dialect with the hot path's statements prepared on `pool` (see
 * runOnce): the claim, the endings and the running marks.
 */
export function pgDialectOn(pool: pg.Pool): SqlDialect {
  return {
    ...pgDialect,
    claim: (db, o) => claim(pool, db, o),
    finishTasks: (db, results, now) => finishTasks(pool, db, results, now),
    markRunning: (db, items, now) => markRunning(pool, db, items, now),
  };
}

/**
 * With \`running\`, the claim is the attempts' start: their pending runs start
 * too, in the same statement. Run rows are locked after the task rows, the
 * order every writer keeps.
 */
function startRuns(now: number) {
  return sql`, started as (
      update baton_runs r set status = 'running', started_at = ${now}, updated_at = ${now}
      where r.id = any(array(select distinct run_id from claimed)) and r.status = 'pending'
      returning r.id
    )`;
}

async function claim(pool: pg.Pool | undefined, db: Db, o: Parameters<SqlDialect['claim']>[1]): Promise<ClaimRow[]> {
  const compiled = claimStatement(o).compile(db);
  return decodeClaimRows(await runOnce<ClaimStatementRow>(db, pool, compiled.sql, [...compiled.parameters]), o);
}

type ClaimStatementRow = ClaimRow['task'] & {
  baton_run_started: boolean;
  /** On the first row only: the batch's workflows. */
  baton_workflows: ClaimRow['workflow'][] | null;
  /** On the first row only: the batch's runs, as [id, inputs, triggered_by, still pending]. */
  baton_runs: [string, unknown, string, boolean][] | null;
};

/** Rows whose first carries the batch's workflows and runs → a ClaimRow per task, in claim order. */
function decodeClaimRows(rows: ClaimStatementRow[], o: LeaseOptions): ClaimRow[] {
  const workflows = new Map<string, ClaimRow['workflow']>();
  const runs = new Map<string, { run: ClaimRow['run']; pending: boolean }>();
  for (const r of rows) {
    if (!r.baton_workflows) continue;
    for (const w of r.baton_workflows) workflows.set(w.id, w);
    for (const [id, inputs, triggered_by, pending] of r.baton_runs ?? [])
      runs.set(id, { run: { id, inputs: inputs as ClaimRow['run']['inputs'], triggered_by }, pending });
  }
  // The row itself is the task row: its three baton_* columns ride along unread (copying the
  // other columns into a fresh object cost ~2 µs a task, 45 ms of a 20,000-task fan-out's profile).
  const lease = leaseValues(o);
  return rows.sort(byClaimOrder).map((task) => {
    const run = runs.get(task.run_id)!;
    return {
      task: Object.assign(task, lease),
      workflow: workflows.get(task.workflow_id)!,
      run: run.run,
      runStarted: task.baton_run_started,
      runPending: run.pending,
    };
  });
}

/**
 * Baton takes row locks in one order (tasks by id, then run steps, then runs),
 * so deadlocks should not happen; should PostgreSQL still report one (40P01) or
 * a serialization failure (40001), the whole transaction is rolled back by the
 * server and is safe to run again.
 *
 * A connection that fails before COMMIT was sent (terminated backend, server
 * restart, broken socket) also rolled the transaction back: it runs again on a
 * fresh connection, up to 3 times in all. One that fails during COMMIT
 * may or may not have committed, so it is not repeated: the caller gets the
 * error (as StoreUnavailableError) and, for the scheduler's fenced writes,
 * repeating later is harmless.
 */
async function retryTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let committing = false;
    try {
      return await db.transaction().execute(async (trx) => {
        const result = await fn(trx);
        committing = true;
        return result;
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      const lockRace = code === '40P01' || code === '40001';
      const lostBeforeCommit = !committing && isConnectionError(error);
      if ((!lockRace && !lostBeforeCommit) || attempt >= (lockRace ? 5 : 3)) throw error;
      await new Promise((r) => setTimeout(r, lockRace ? attempt * 10 * Math.random() : 100 * 2 ** attempt));
    }
  }
}
