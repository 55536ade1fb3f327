import {
  NotFoundError,
  RUN_STATUSES,
  type Json,
  type Page,
  type Run,
  type RunCounts,
  type RunQuery,
  type RunStatus,
  type Task,
  type TaskQuery,
} from '@baton/core';
import { ACTIVE_RUN_STATUSES, CANCELLED_AT_ONCE_TASK_STATUSES, cancelledRunFields, runFinishedError } from '@baton/core/store-kit';
import { DEFAULT_PAGE, bumped, decodeCursor, idParam, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';

/** Runs and their tasks once created (`create-runs.ts`): reads, pages, counts, and the cancel. */

export async function getRun(ctx: Ctx, id: string): Promise<Run> {
  const row = await ctx.db.selectFrom('baton_runs').selectAll().where('id', '=', idParam(ctx, id)).executeTakeFirst();
  if (!row) throw new NotFoundError('run', id);
  return ctx.rows.run(row);
}

export async function listRuns(ctx: Ctx, query: RunQuery): Promise<Page<Run>> {
  const limit = query.limit ?? DEFAULT_PAGE;
  const before = decodeCursor(query.cursor, 1);
  /** The newest runs of one status (or any), with the query's other filters: one ordered index range. */
  const newest = (status: RunStatus | undefined) => {
    let q = ctx.db.selectFrom('baton_runs').selectAll();
    if (query.workflowId) q = q.where('workflow_id', '=', idParam(ctx, query.workflowId));
    if (status) q = q.where('status', '=', status);
    if (query.triggeredBy) q = q.where('triggered_by', '=', query.triggeredBy);
    if (before) q = q.where('id', '<', idParam(ctx, String(before[0])));
    return q.orderBy('id', 'desc').limit(limit + 1);
  };
  // A workflow's runs of every status: the newest of each status's newest, each read from an
  // ordered range of `baton_runs_workflow_status_idx` (workflow_id, status, id). A page reads at
  // most six times its size, whatever the workflow's history (PostgreSQL: Merge Append of six
  // limited ranges; a plain UNION ALL it does not merge, and sorted a third of 100k runs instead).
  // This takes the place of an index on (workflow_id, id), which on PostgreSQL cost a new entry
  // at every status change of every run (migration 008).
  // The arms are named s0…s5: the dashboard's plan test (SQLite) allows a sort only after `SCAN s<i>`.
  const rows =
    query.workflowId && !query.status
      ? await RUN_STATUSES.map((status, i) => ctx.db.selectFrom(newest(status).as(`s${i}`)).selectAll())
          .reduce((all, arm) => all.unionAll(arm))
          .orderBy('id', 'desc')
          .limit(limit + 1)
          .execute()
      : await newest(query.status).execute();
  return toPage(rows, limit, ctx.rows.run, (r) => [r.id]);
}

/** Grouped on `baton_runs_workflow_status_idx` (workflow_id, status, id): an index-only count. */
export async function countRuns(ctx: Ctx, query: { workflowId?: string }): Promise<RunCounts> {
  let q = ctx.db
    .selectFrom('baton_runs')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .groupBy('status');
  if (query.workflowId) q = q.where('workflow_id', '=', idParam(ctx, query.workflowId));
  const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as RunCounts;
  for (const row of await q.execute()) counts[row.status as RunStatus] = Number(row.n);
  return counts;
}

export async function cancelRun(ctx: Ctx, id: string, reason?: string): Promise<Run> {
  return ctx.tx(async (ctx) => {
    const now = nowMs();
    // Claim the run row first, guarded by status: a concurrent roll-up that finishes the run
    // then either ran before (and this cancel refuses) or waits for this transaction.
    const claimed = await ctx.db
      .updateTable('baton_runs')
      .set({ status: 'cancelled' })
      .where('id', '=', idParam(ctx, id))
      .where('status', 'in', ACTIVE_RUN_STATUSES)
      .executeTakeFirst();
    const run = await getRun(ctx, id);
    if (Number(claimed.numUpdatedRows) === 0) throw runFinishedError(id, run.status);
    const ended = cancelledRunFields({ startedAt: run.startedAt?.getTime() ?? null, createdAt: run.createdAt.getTime() }, reason, now);
    const cancelled = await ctx.db
      .updateTable('baton_tasks')
      .set({ status: 'cancelled', error: ended.error, finished_at: now, updated_at: now })
      .where('id', 'in', tasksOfRun(ctx, run.id))
      .where('status', 'in', CANCELLED_AT_ONCE_TASK_STATUSES)
      .executeTakeFirst();
    const n = Number(cancelled.numUpdatedRows);
    await ctx.db
      .updateTable('baton_runs')
      .set((eb) => ({
        status: ended.status,
        error: ended.error,
        failure_status: ended.failureStatus,
        tasks_finished: eb('tasks_finished', '+', n),
        tasks_failed: eb('tasks_failed', '+', n),
        finished_at: ended.finishedAt,
        duration_ms: ended.durationMs,
        updated_at: bumped(now),
      }))
      .where('id', '=', run.id)
      .execute();
    return getRun(ctx, id);
  });
}

export async function getTask(ctx: Ctx, id: string): Promise<Task> {
  const row = await ctx.db.selectFrom('baton_tasks').selectAll().where('id', '=', idParam(ctx, id)).executeTakeFirst();
  if (!row) throw new NotFoundError('task', id);
  return ctx.rows.task(row);
}

/** Reads `baton_tasks_execution_idx` (partial: tasks with an execution name only). */
export async function findTaskByExecutionName(ctx: Ctx, executionName: string): Promise<Task | null> {
  const row = await ctx.db
    .selectFrom('baton_tasks')
    .selectAll()
    .where('execution_name', '=', executionName)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? ctx.rows.task(row) : null;
}

export async function listTasks(ctx: Ctx, query: TaskQuery): Promise<Page<Task>> {
  const limit = query.limit ?? DEFAULT_PAGE;
  const after = decodeCursor(query.cursor, 2);
  let q = inRunOrder(ctx, query.runId)
    .selectAll('t')
    .limit(limit + 1);
  if (query.status) q = q.where('t.status', '=', query.status);
  if (query.stepName) q = q.where('t.step_name', '=', query.stepName);
  if (after) {
    const [position, index] = after.map(Number) as [number, number];
    q = q.where((eb) =>
      eb.or([eb('o.position', '>', position), eb.and([eb('o.position', '=', position), eb('o.task_index', '>', index)])]),
    );
  }
  return toPage(await q.execute(), limit, ctx.rows.task, (r) => [Number(r.position), Number(r.task_index)]);
}

/**
 * A run's tasks in order: `baton_run_tasks` (run, position, task index → task id; migration
 * 011) read by its primary key, each task then by its own. A task row has no index by run: on
 * PostgreSQL one would take a new entry at every claim and ending.
 */
function inRunOrder(ctx: Ctx, runId: string) {
  return ctx.db
    .selectFrom('baton_run_tasks as o')
    .innerJoin('baton_tasks as t', 't.id', 'o.task_id')
    .where('o.run_id', '=', idParam(ctx, runId))
    .orderBy('o.position')
    .orderBy('o.task_index');
}

/** The ids of a run's tasks, for a statement that writes them (`where id in …`). */
export function tasksOfRun(ctx: Ctx, runId: string) {
  return ctx.db.selectFrom('baton_run_tasks').select('task_id').where('run_id', '=', idParam(ctx, runId));
}

/**
 * A step's tasks are found by position in `baton_run_tasks`: every step with a
 * dependency either way (all a downstream task asks for) has a step row naming
 * its position, an exact range. A step without one (a run's only step, or one
 * standing alone) is found by name among the run's tasks.
 */
export async function getStepOutputs(ctx: Ctx, runId: string, stepNames: string[]): Promise<{ [step: string]: (Json | null)[] }> {
  const out: { [step: string]: (Json | null)[] } = Object.fromEntries(stepNames.map((s) => [s, []]));
  if (stepNames.length === 0) return out;
  const placed = await ctx.db
    .selectFrom('baton_run_steps')
    .select(['step_name', 'position'])
    .where('run_id', '=', idParam(ctx, runId))
    .where('step_name', 'in', stepNames)
    .execute();
  let q = inRunOrder(ctx, runId)
    .select(['t.step_name', 't.output'])
    .where('t.step_name', 'in', stepNames)
    .where('t.status', '=', 'success');
  if (placed.length === new Set(stepNames).size)
    q = q.where(
      'o.position',
      'in',
      placed.map((s) => Number(s.position)),
    );
  for (const row of await q.execute()) out[row.step_name]!.push(ctx.rows.jsonOrNull(row.output));
  return out;
}
