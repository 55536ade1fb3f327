import { NotFoundError, type NewRun, type Run, type Workflow } from '@baton/core';
import {
  assertTriggerable,
  hasClusterLimits,
  newId,
  newRun,
  planRun,
  stepNeedsCounters,
  type PlannedTask,
  type RunPlan,
} from '@baton/core/store-kit';
import { idParams, keyShared, type Ctx } from '../context.js';
import { type CopyRows, jsonRows } from '../json-rows.js';
import { nowMs } from '../rows.js';
import type { RunStepTable, RunTable, TaskTable } from '../schema.js';
import { registerLimitKeys } from './limits.js';

/**
 * Triggering: runs and all their tasks, planned by core's `planRun` and
 * checked by `assertTriggerable`, written set-based (a constant number of
 * statements however many runs). The trigger path the bench measures.
 */

/** Idempotency keys per read: well under SQLite's and PostgreSQL's bound-parameter limits. */
const KEYS_PER_READ = 500;

export async function createRun(ctx: Ctx, input: NewRun): Promise<{ run: Run; created: boolean }> {
  return (await createRuns(ctx, [input]))[0]!;
}

/**
 * Creates many runs in one transaction with a constant number of statements:
 * one read of the idempotency keys already used, one of the workflows, then
 * inserts of runs, run steps and tasks (with each task's place in its run)
 * from one JSON document per 5,000 rows. All or nothing.
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
  // A workflow deleted meanwhile waits for this transaction, then finds its runs and fails (migration 009).
  const read = keyShared(ctx, ctx.db.selectFrom('baton_workflows').selectAll().where('id', 'in', idParams(ctx, workflowIds)));
  for (const row of await read.execute()) workflows.set(row.id, ctx.rows.workflow(row));
  // Plan each workflow once; runs differ only in their ids. Not a workflow with cluster-wide
  // limits: its tasks' keys may name the run's inputs, so each of its runs is planned alone.
  const plans = new Map<string, RunPlan | null>();
  inputs.forEach((input, index) => {
    const workflow = workflows.get(input.workflowId);
    if (!workflow) throw new NotFoundError('workflow', input.workflowId);
    assertTriggerable(workflow, inputs.length > 1 ? index : undefined);
    if (!plans.has(workflow.id)) plans.set(workflow.id, hasClusterLimits(workflow) ? null : planRun(workflow));
  });

  const now = nowMs();
  const inserts = new Inserts(ctx);
  const answers: { run: Run; created: boolean }[] = [];
  const limited: PlannedTask[] = [];
  // Any failure below leaves no insert queued to run after the transaction rolls back.
  try {
    for (const [index, input] of inputs.entries()) {
      const key = input.idempotencyKey ? keyOf(input.workflowId, input.idempotencyKey) : undefined;
      const known = key !== undefined ? existing.get(key) : undefined;
      if (known) {
        answers.push({ run: known, created: false });
        continue;
      }
      const workflow = workflows.get(input.workflowId)!;
      const plan = plans.get(workflow.id) ?? planRun(workflow, input.inputs ?? {}, inputs.length > 1 ? index : undefined);
      const run: Run = newRun(newId(), input, workflow, plan.tasks.length, now);
      // A repeated key within this call answers the run its first use creates.
      if (key !== undefined) existing.set(key, run);
      answers.push({ run, created: true });
      inserts.runs.push({
        id: run.id,
        workflow_id: run.workflowId,
        workflow_name: run.workflowName,
        status: run.status,
        inputs: run.inputs,
        triggered_by: run.triggeredBy,
        idempotency_key: run.idempotencyKey,
        error: run.error,
        failure_status: null,
        tasks_total: run.tasksTotal,
        tasks_finished: run.tasksFinished,
        tasks_failed: run.tasksFailed,
        metadata: run.metadata,
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
        inserts.steps.push({
          run_id: run.id,
          step_name: s.name,
          position: s.position,
          task_count: s.taskCount,
          succeeded: 0,
          deps_remaining: s.dependsOn.length,
          dependents: s.dependents,
          downstream: s.downstream,
        });
      }
      const runAt = input.runAt?.getTime() ?? now;
      for (const t of plan.tasks) {
        inserts.tasks.push({
          id: newId(),
          run_id: run.id,
          workflow_id: workflow.id,
          step_name: t.stepName,
          position: positions.get(t.stepName)!,
          task_index: t.taskIndex,
          task_count: t.taskCount,
          status: t.status,
          params: t.params,
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
          metadata: t.metadata,
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
      if (inserts.full()) await inserts.write();
    }
    await inserts.write(true);
  } catch (error) {
    await inserts.abandon();
    throw error;
  }
  await registerLimitKeys(ctx, limited);
  if (inserts.taskCount > 0) await ctx.dialect.afterTasksInserted?.(ctx.db, inserts.taskCount);
  if (inserts.pendingTasks) await ctx.dialect.notifyTasksReady?.(ctx.db);
  return answers;
}

/**
 * The rows of a `createRuns` call, inserted a part at a time while the next
 * part is built: JavaScript builds rows (and each part's JSON document) while
 * the database inserts the parts queued before, instead of every row built
 * before the first insert. Inserts queue one behind the other on the
 * transaction's connection; runs go before the step counters and tasks that
 * refer to them, so a part of tasks first queues the runs and step counters
 * built so far.
 */
class Inserts {
  readonly runs: RunTable[] = [];
  readonly steps: RunStepTable[] = [];
  readonly tasks: TaskTable[] = [];
  taskCount = 0;
  pendingTasks = false;
  readonly #ctx: Ctx;
  /** The queued inserts; a failure skips those behind it and is thrown by `write(true)` (handled at once, never unhandled). */
  #queue: Promise<void> = Promise.resolve();
  #abandoned = false;

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
  }

  /**
   * After a failure (a run that cannot be planned, an insert that failed): no
   * insert still queued runs, and the one under way is waited for. The
   * caller's transaction then rolls back; a queued insert must not run after
   * that, outside it.
   */
  async abandon(): Promise<void> {
    this.#abandoned = true;
    await this.#queue.catch(() => {});
  }

  /** Whether a table holds a part's worth of rows. */
  full(): boolean {
    return this.runs.length >= JSON_INSERT_CHUNK || this.steps.length >= JSON_INSERT_CHUNK || this.tasks.length >= JSON_INSERT_CHUNK;
  }

  /** Queues the full tables (and, first, the tables they refer to); with `all`, everything left, and waits for every insert. */
  async write(all = false): Promise<void> {
    const tasks = all || this.tasks.length >= JSON_INSERT_CHUNK;
    const steps = tasks || this.steps.length >= JSON_INSERT_CHUNK;
    this.#insert('baton_runs', this.runs.splice(0), ['inputs', 'metadata']);
    if (steps) this.#insert('baton_run_steps', this.steps.splice(0), ['dependents', 'downstream']);
    if (tasks) {
      const rows = this.tasks.splice(0);
      this.taskCount += rows.length;
      if (!this.pendingTasks) this.pendingTasks = rows.some((t) => t.status === 'pending');
      this.#insert('baton_tasks', rows, ['params', 'output', 'metadata'], RUN_ORDER);
    }
    if (all) await this.#queue;
  }

  #insert(table: Table, rows: object[], jsonColumns: string[], copy?: CopyRows): void {
    for (const statement of insertStatements(this.#ctx, table, rows, jsonColumns, copy)) {
      this.#queue = this.#queue.then(async () => {
        if (!this.#abandoned) await statement();
      });
      this.#queue.catch(() => {});
    }
  }
}

type Table = 'baton_runs' | 'baton_run_steps' | 'baton_tasks';

/** Each task's place in its run (`baton_run_tasks`, migration 011), written from the task rows by the same insert. */
const RUN_ORDER: CopyRows = {
  table: 'baton_run_tasks',
  columns: { run_id: 'run_id', position: 'position', task_index: 'task_index', task_id: 'id' },
};

/** Rows per INSERT from one JSON document: bounded so one statement's document stays a few MB. */
const JSON_INSERT_CHUNK = 5000;

/**
 * Multi-row inserts, ready to run: one JSON document per 5,000 rows
 * (`insertJsonRows`: no per-value parameters to build, bind and parse; the
 * columns equal in every row sent once, json-rows.ts), built now.
 */
function insertStatements(ctx: Ctx, table: Table, rows: object[], jsonColumns: string[], copy?: CopyRows): (() => Promise<unknown>)[] {
  const statements: (() => Promise<unknown>)[] = [];
  if (rows.length === 0) return statements;
  const columns = Object.keys(rows[0]!);
  for (let i = 0; i < rows.length; i += JSON_INSERT_CHUNK) {
    const part = jsonRows(rows.slice(i, i + JSON_INSERT_CHUNK), columns, jsonColumns);
    statements.push(() => ctx.dialect.insertJsonRows(ctx.db, table, part, copy));
  }
  return statements;
}

/** The runs already holding these inputs' idempotency keys, by workflow and key: one read. */
async function existingRuns(ctx: Ctx, inputs: NewRun[]): Promise<Map<string, Run>> {
  const out = new Map<string, Run>();
  const keys = [...new Set(inputs.flatMap((i) => (i.idempotencyKey ? [i.idempotencyKey] : [])))];
  if (keys.length === 0) return out;
  const workflowIds = [...new Set(inputs.map((i) => i.workflowId))];
  for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
    const rows = await ctx.db
      .selectFrom('baton_runs')
      .selectAll()
      .where('workflow_id', 'in', idParams(ctx, workflowIds))
      .where('idempotency_key', 'in', keys.slice(i, i + KEYS_PER_READ))
      .execute();
    for (const row of rows) out.set(keyOf(row.workflow_id, row.idempotency_key!), ctx.rows.run(row));
  }
  return out;
}
