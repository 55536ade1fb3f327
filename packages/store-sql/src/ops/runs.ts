import {
  ConflictError,
  NotFoundError,
  newId,
  planRun,
  type Json,
  type NewRun,
  type Page,
  type Run,
  type RunQuery,
  type Task,
  type TaskQuery,
} from '@baton/core';
import { DEFAULT_PAGE, bumped, decodeCursor, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';
import type { TaskTable } from '../schema.js';
import { registerLimitKeys } from './limits.js';
import { getWorkflow } from './workflows.js';

/** Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 500;

async function findByIdempotencyKey(ctx: Ctx, workflowId: string, key: string): Promise<Run | null> {
  const row = await ctx.db
    .selectFrom('baton_runs')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row ? ctx.rows.run(row) : null;
}

export async function createRun(ctx: Ctx, input: NewRun): Promise<{ run: Run; created: boolean }> {
  try {
    return await ctx.tx((ctx) => insertRun(ctx, input));
  } catch (error) {
    // Two processes raced on one idempotency key: the loser returns the winner's run.
    if (input.idempotencyKey && ctx.dialect.isUniqueViolation(error)) {
      const existing = await findByIdempotencyKey(ctx, input.workflowId, input.idempotencyKey);
      if (existing) return { run: existing, created: false };
    }
    throw error;
  }
}

async function insertRun(ctx: Ctx, input: NewRun): Promise<{ run: Run; created: boolean }> {
  if (input.idempotencyKey) {
    const existing = await findByIdempotencyKey(ctx, input.workflowId, input.idempotencyKey);
    if (existing) return { run: existing, created: false };
  }
  const workflow = await getWorkflow(ctx, input.workflowId);
  if (workflow.status === 'archived' || workflow.status === 'draft') {
    throw new ConflictError('workflow', `"${workflow.name}" is ${workflow.status} and cannot be triggered`);
  }
  const plan = planRun(workflow, input.inputs ?? {});
  const now = nowMs();
  const runAt = input.runAt?.getTime() ?? now;
  const json = ctx.dialect.encodeJson;
  const run = {
    id: newId(),
    workflow_id: workflow.id,
    workflow_name: workflow.name,
    status: 'pending',
    inputs: json(input.inputs ?? {}),
    triggered_by: input.triggeredBy ?? 'manual',
    idempotency_key: input.idempotencyKey ?? null,
    error: null,
    failure_status: null,
    tasks_total: plan.tasks.length,
    tasks_finished: 0,
    tasks_failed: 0,
    metadata: json(input.metadata ?? {}),
    started_at: null,
    finished_at: null,
    duration_ms: null,
    created_at: now,
    updated_at: now,
  };
  const inserted = await ctx.db.insertInto('baton_runs').values(run).returningAll().executeTakeFirstOrThrow();
  await ctx.db
    .insertInto('baton_run_steps')
    .values(
      plan.steps.map((s) => ({
        run_id: run.id,
        step_name: s.name,
        position: s.position,
        task_count: s.taskCount,
        succeeded: 0,
        deps_remaining: s.dependsOn.length,
        dependents: json(s.dependents),
        downstream: json(s.downstream),
      })),
    )
    .execute();
  const positions = new Map(plan.steps.map((s) => [s.name, s.position]));
  const rows: TaskTable[] = plan.tasks.map((t) => ({
    id: t.id,
    run_id: run.id,
    workflow_id: workflow.id,
    step_name: t.stepName,
    position: positions.get(t.stepName)!,
    task_index: t.taskIndex,
    task_count: t.taskCount,
    status: t.status,
    params: json(t.params),
    output: null,
    error: null,
    execution_name: null,
    priority: t.priority,
    run_at: runAt,
    attempt: 0,
    max_attempts: t.maxAttempts,
    lease_id: null,
    lease_owner: null,
    lease_expires_at: null,
    metadata: json(t.metadata),
    workspace: t.workspace,
    concurrency_key: t.concurrencyLimit?.key ?? null,
    concurrency_limit: t.concurrencyLimit?.limit ?? null,
    rate_key: t.rateLimit?.key ?? null,
    rate_limit: t.rateLimit?.limit ?? null,
    rate_period_ms: t.rateLimit?.periodMs ?? null,
    dispatched_at: null,
    started_at: null,
    finished_at: null,
    created_at: now,
    updated_at: now,
  }));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await ctx.db.insertInto('baton_tasks').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }
  await registerLimitKeys(ctx, plan.tasks);
  await ctx.dialect.afterTasksInserted?.(ctx.db, rows.length);
  if (rows.some((t) => t.status === 'pending')) await ctx.dialect.notifyTasksReady?.(ctx.db);
  return { run: ctx.rows.run(inserted), created: true };
}

export async function getRun(ctx: Ctx, id: string): Promise<Run> {
  const row = await ctx.db.selectFrom('baton_runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('run', id);
  return ctx.rows.run(row);
}

export async function listRuns(ctx: Ctx, query: RunQuery): Promise<Page<Run>> {
  const limit = query.limit ?? DEFAULT_PAGE;
  const before = decodeCursor(query.cursor, 1);
  let q = ctx.db.selectFrom('baton_runs').selectAll().orderBy('id', 'desc').limit(limit + 1);
  if (query.workflowId) q = q.where('workflow_id', '=', query.workflowId);
  if (query.status) q = q.where('status', '=', query.status);
  if (before) q = q.where('id', '<', String(before[0]));
  return toPage(await q.execute(), limit, ctx.rows.run, (r) => [r.id]);
}

export async function cancelRun(ctx: Ctx, id: string, reason?: string): Promise<Run> {
  return ctx.tx(async (ctx) => {
    const now = nowMs();
    // Claim the run row first, guarded by status: a concurrent roll-up that finishes the run
    // then either ran before (and this cancel refuses) or waits for this transaction.
    const claimed = await ctx.db
      .updateTable('baton_runs')
      .set({ status: 'cancelled' })
      .where('id', '=', id)
      .where('status', 'in', ['pending', 'running'])
      .executeTakeFirst();
    const run = await getRun(ctx, id);
    if (Number(claimed.numUpdatedRows) === 0) throw new ConflictError('run', `${id} already finished as ${run.status}`);
    const cancelled = await ctx.db
      .updateTable('baton_tasks')
      .set({ status: 'cancelled', error: reason ?? 'run cancelled', finished_at: now, updated_at: now })
      .where('run_id', '=', id)
      .where('status', 'in', ['waiting', 'pending'])
      .executeTakeFirst();
    const n = Number(cancelled.numUpdatedRows);
    const startedOrCreated = (run.startedAt ?? run.createdAt).getTime();
    await ctx.db
      .updateTable('baton_runs')
      .set((eb) => ({
        status: 'cancelled',
        error: reason ?? 'run cancelled',
        failure_status: 'cancelled',
        tasks_finished: eb('tasks_finished', '+', n),
        tasks_failed: eb('tasks_failed', '+', n),
        finished_at: now,
        duration_ms: Math.max(0, now - startedOrCreated),
        updated_at: bumped(now),
      }))
      .where('id', '=', id)
      .execute();
    return getRun(ctx, id);
  });
}

export async function getTask(ctx: Ctx, id: string): Promise<Task> {
  const row = await ctx.db.selectFrom('baton_tasks').selectAll().where('id', '=', id).executeTakeFirst();
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
  let q = ctx.db
    .selectFrom('baton_tasks')
    .selectAll()
    .where('run_id', '=', query.runId)
    .orderBy('position')
    .orderBy('task_index')
    .limit(limit + 1);
  if (query.status) q = q.where('status', '=', query.status);
  if (query.stepName) q = q.where('step_name', '=', query.stepName);
  if (after) {
    const [position, index] = after.map(Number) as [number, number];
    q = q.where((eb) => eb.or([eb('position', '>', position), eb.and([eb('position', '=', position), eb('task_index', '>', index)])]));
  }
  return toPage(await q.execute(), limit, ctx.rows.task, (r) => [Number(r.position), Number(r.task_index)]);
}

export async function getStepOutputs(ctx: Ctx, runId: string, stepNames: string[]): Promise<{ [step: string]: (Json | null)[] }> {
  const out: { [step: string]: (Json | null)[] } = Object.fromEntries(stepNames.map((s) => [s, []]));
  if (stepNames.length === 0) return out;
  const rows = await ctx.db
    .selectFrom('baton_tasks')
    .select(['step_name', 'output'])
    .where('run_id', '=', runId)
    .where('step_name', 'in', stepNames)
    .where('status', '=', 'success')
    .orderBy('position')
    .orderBy('task_index')
    .execute();
  for (const row of rows) out[row.step_name]!.push(ctx.rows.jsonOrNull(row.output));
  return out;
}
