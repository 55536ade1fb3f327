import {
  ConflictError,
  NotFoundError,
  newId,
  hasClusterLimits,
  planRun,
  stepNeedsCounters,
  type Json,
  type PlannedTask,
  type RunPlan,
  type Workflow,
  type NewRun,
  type Page,
  RUN_STATUSES,
  type Run,
  type RunCounts,
  type RunQuery,
  type RunStatus,
  type Task,
  type TaskQuery,
} from '@baton/core';
import { DEFAULT_PAGE, bumped, decodeCursor, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';
import type { RunStepTable, RunTable, TaskTable } from '../schema.js';
import { registerLimitKeys } from './limits.js';

/** Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 500;

export async function createRun(ctx: Ctx, input: NewRun): Promise<{ run: Run; created: boolean }> {
  return (await createRuns(ctx, [input]))[0]!;
}

/**
 * Creates many runs in one transaction with a constant number of statements:
 * one read of the idempotency keys already used, one of the workflows, then
 * multi-row inserts of runs, run steps and tasks (chunked under the engines'
 * parameter limits). All or nothing.
 */
export async function createRuns(ctx: Ctx, inputs: NewRun[]): Promise<{ run: Run; created: boolean }[]> {
  if (inputs.length === 0) return [];
  try {
    return await ctx.tx((ctx) => insertRuns(ctx, inputs));
  } catch (error) {
    // Another process inserted one of these idempotency keys meanwhile: the whole insert
    // rolled back; once more, the keys read finds the winner's runs and answers them.
    if (inputs.some((i) => i.idempotencyKey) && ctx.dialect.isUniqueViolation(error)) return ctx.tx((ctx) => insertRuns(ctx, inputs));
    throw error;
  }
}

const keyOf = (workflowId: string, key: string) => `${workflowId}\n${key}`;

async function insertRuns(ctx: Ctx, inputs: NewRun[]): Promise<{ run: Run; created: boolean }[]> {
  const existing = await existingRuns(ctx, inputs);
  const workflowIds = [...new Set(inputs.map((i) => i.workflowId))];
  const workflows = new Map<string, Workflow>();
  for (const row of await ctx.db.selectFrom('baton_workflows').selectAll().where('id', 'in', workflowIds).execute()) workflows.set(row.id, ctx.rows.workflow(row));
  // Plan each workflow once; runs differ only in their ids. Not a workflow with cluster-wide
  // limits: its tasks' keys may name the run's inputs, so each of its runs is planned alone.
  const plans = new Map<string, RunPlan | null>();
  inputs.forEach((input, index) => {
    const workflow = workflows.get(input.workflowId);
    if (!workflow) throw new NotFoundError('workflow', input.workflowId);
    if (workflow.status === 'archived' || workflow.status === 'draft') {
      throw new ConflictError('workflow', `"${workflow.name}" is ${workflow.status} and cannot be triggered${inputs.length > 1 ? ` (item ${index})` : ''}`);
    }
    if (!plans.has(workflow.id)) plans.set(workflow.id, hasClusterLimits(workflow) ? null : planRun(workflow));
  });

  const now = nowMs();
  // With a dialect that inserts from one JSON document, JSON columns travel as they are.
  const json = ctx.dialect.insertJsonRows ? (value: unknown) => value : ctx.dialect.encodeJson;
  const runRows: RunTable[] = [];
  const stepRows: RunStepTable[] = [];
  const taskRows: TaskTable[] = [];
  const answers: { run: Run; created: boolean }[] = [];
  const limited: PlannedTask[] = [];
  for (const input of inputs) {
    const key = input.idempotencyKey ? keyOf(input.workflowId, input.idempotencyKey) : undefined;
    const known = key !== undefined ? existing.get(key) : undefined;
    if (known) {
      answers.push({ run: known, created: false });
      continue;
    }
    const workflow = workflows.get(input.workflowId)!;
    const plan = plans.get(workflow.id) ?? planRun(workflow, input.inputs ?? {});
    const run: Run = {
      id: newId(),
      workflowId: workflow.id,
      workflowName: workflow.name,
      status: 'pending',
      inputs: input.inputs ?? {},
      triggeredBy: input.triggeredBy ?? 'manual',
      idempotencyKey: input.idempotencyKey ?? null,
      error: null,
      tasksTotal: plan.tasks.length,
      tasksFinished: 0,
      tasksFailed: 0,
      metadata: input.metadata ?? {},
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      createdAt: new Date(now),
      updatedAt: new Date(now),
    };
    // A repeated key within this call answers the run its first use creates.
    if (key !== undefined) existing.set(key, run);
    answers.push({ run, created: true });
    runRows.push({
      id: run.id,
      workflow_id: workflow.id,
      workflow_name: workflow.name,
      status: 'pending',
      inputs: json(run.inputs),
      triggered_by: run.triggeredBy,
      idempotency_key: run.idempotencyKey,
      error: null,
      failure_status: null,
      tasks_total: plan.tasks.length,
      tasks_finished: 0,
      tasks_failed: 0,
      metadata: json(run.metadata),
      started_at: null,
      finished_at: null,
      duration_ms: null,
      created_at: now,
      updated_at: now,
    });
    const positions = new Map<string, number>();
    for (const s of plan.steps) {
      positions.set(s.name, s.position);
      // Rows no roll-up reads are not written: a single-task run has none.
      if (!stepNeedsCounters(s)) continue;
      stepRows.push({
        run_id: run.id,
        step_name: s.name,
        position: s.position,
        task_count: s.taskCount,
        succeeded: 0,
        deps_remaining: s.dependsOn.length,
        dependents: json(s.dependents),
        downstream: json(s.downstream),
      });
    }
    const runAt = input.runAt?.getTime() ?? now;
    for (const t of plan.tasks) {
      taskRows.push({
        id: newId(),
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
        priority: input.priority ?? t.priority,
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
      });
    }
    if (plan.tasks.some((t) => t.concurrencyLimit || t.rateLimit)) limited.push(...plan.tasks);
  }
  await insertRows(ctx, 'baton_runs', runRows, ['inputs', 'metadata']);
  await insertRows(ctx, 'baton_run_steps', stepRows, ['dependents', 'downstream']);
  await insertRows(ctx, 'baton_tasks', taskRows, ['params', 'output', 'metadata']);
  await registerLimitKeys(ctx, limited);
  if (taskRows.length > 0) await ctx.dialect.afterTasksInserted?.(ctx.db, taskRows.length);
  if (taskRows.some((t) => t.status === 'pending')) await ctx.dialect.notifyTasksReady?.(ctx.db);
  return answers;
}

/** Rows per INSERT from one JSON document: bounded so one statement's document stays a few MB. */
const JSON_INSERT_CHUNK = 5000;

/**
 * Multi-row inserts: from one JSON document per 5,000 rows where the dialect
 * can (`insertJsonRows`: no per-value parameters to build, bind and parse),
 * else Kysely's multi-row VALUES, 500 rows per statement.
 */
async function insertRows<T extends object>(ctx: Ctx, table: 'baton_runs' | 'baton_run_steps' | 'baton_tasks', rows: T[], jsonColumns: (keyof T & string)[]): Promise<void> {
  if (rows.length === 0) return;
  const { insertJsonRows } = ctx.dialect;
  if (insertJsonRows) {
    const columns = Object.keys(rows[0]!);
    for (let i = 0; i < rows.length; i += JSON_INSERT_CHUNK) await insertJsonRows(ctx.db, table, columns, jsonColumns, rows.slice(i, i + JSON_INSERT_CHUNK));
    return;
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await ctx.db.insertInto(table).values(rows.slice(i, i + INSERT_CHUNK) as never).execute();
}

/** The runs already holding these inputs' idempotency keys, by workflow and key: one read. */
async function existingRuns(ctx: Ctx, inputs: NewRun[]): Promise<Map<string, Run>> {
  const out = new Map<string, Run>();
  const keys = [...new Set(inputs.flatMap((i) => (i.idempotencyKey ? [i.idempotencyKey] : [])))];
  if (keys.length === 0) return out;
  const workflowIds = [...new Set(inputs.map((i) => i.workflowId))];
  for (let i = 0; i < keys.length; i += INSERT_CHUNK) {
    const rows = await ctx.db
      .selectFrom('baton_runs')
      .selectAll()
      .where('workflow_id', 'in', workflowIds)
      .where('idempotency_key', 'in', keys.slice(i, i + INSERT_CHUNK))
      .execute();
    for (const row of rows) out.set(keyOf(row.workflow_id, row.idempotency_key!), ctx.rows.run(row));
  }
  return out;
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
  if (query.triggeredBy) q = q.where('triggered_by', '=', query.triggeredBy);
  if (before) q = q.where('id', '<', String(before[0]));
  return toPage(await q.execute(), limit, ctx.rows.run, (r) => [r.id]);
}

/** Grouped on `baton_runs_workflow_status_idx` (workflow_id, status, id): an index-only count. */
export async function countRuns(ctx: Ctx, query: { workflowId?: string }): Promise<RunCounts> {
  let q = ctx.db.selectFrom('baton_runs').select((eb) => ['status', eb.fn.countAll<number>().as('n')]).groupBy('status');
  if (query.workflowId) q = q.where('workflow_id', '=', query.workflowId);
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
