import type { FinishOutcome, FinishResult, FinishedRun, RunStatus, TaskResult, TaskStatus } from '@baton/core';
import { groupBy, runStatusAfterFailure } from '@baton/core';
import { sql } from 'kysely';
import { bumped, type Ctx } from '../context.js';
import { fencedUpdate } from './fenced.js';
import { nowMs } from '../rows.js';


interface Accepted {
  runId: string;
  stepName: string;
  status: TaskStatus;
  error: string | null;
}

/**
 * Ends attempts and does all that follows in the same transaction: fencing,
 * unblocking dependents, cancelling downstream of a failure, and rolling the
 * run up. Counter updates are folded per run and per step, so a batch of many
 * endings of one run touches its run row once.
 */
export async function finishTasks(ctx: Ctx, results: TaskResult[]): Promise<FinishResult> {
  if (results.length === 0) return { outcomes: [], finishedRuns: [], readyTasks: 0 };
  return ctx.tx(async (ctx) => {
    const now = nowMs();
    const accepted: Accepted[] = [];
    let readyTasks = 0;

    const written = new Map<string, { run_id: string; step_name: string; status: string }>();
    for (const row of await writeResults(ctx, results, now)) written.set(row.id, row);
    const refused = results.filter((r) => !written.has(r.taskId)).map((r) => r.taskId);
    const current = new Map<string, string>();
    if (refused.length > 0) {
      for (const row of await ctx.db.selectFrom('baton_tasks').select(['id', 'status']).where('id', 'in', refused).execute()) current.set(row.id, row.status);
    }
    const outcomes = results.map((result): FinishOutcome => {
      const row = written.get(result.taskId);
      if (!row) return { taskId: result.taskId, accepted: false, status: (current.get(result.taskId) ?? 'failed') as TaskStatus };
      // A task listed twice in one call is written once: the second finds no lease.
      written.delete(result.taskId);
      if (row.status === 'pending') readyTasks++;
      else accepted.push({ runId: row.run_id, stepName: row.step_name, status: row.status as TaskStatus, error: 'error' in result ? (result.error ?? null) : null });
      return { taskId: result.taskId, accepted: true, status: row.status as TaskStatus };
    });

    const finishedRuns: FinishedRun[] = [];
    // Runs and steps in sorted order too: every transaction locks rows in one order.
    for (const [runId, ended] of [...groupBy(accepted, (a) => a.runId)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const rollup = await rollUpRun(ctx, runId, ended, now);
      readyTasks += rollup.ready;
      if (rollup.finished) finishedRuns.push(rollup.finished);
    }
    if (readyTasks > 0) await ctx.dialect.notifyTasksReady?.(ctx.db);
    return { outcomes, finishedRuns, readyTasks };
  });
}

/** The fenced write of many endings: one statement per chunk (see fencedUpdate). */
async function writeResults(ctx: Ctx, results: TaskResult[], now: number) {
  const { dialect } = ctx;
  const at = dialect.cast(sql`${now}`, 'ms');
  const runCancelled = sql`(select r.status from baton_runs r where r.id = baton_tasks.run_id) = 'cancelled'`;
  return fencedUpdate<{ run_id: string; step_name: string; status: string }, TaskResult>(
    ctx,
    results,
    {
      columns: ['status', 'output', 'error', 'retry_at'],
      values: (r) => {
        const retryAt = r.status !== 'cancelled' && 'retryAt' in r && r.retryAt ? r.retryAt.getTime() : null;
        return [
          retryAt !== null ? 'pending' : r.status,
          r.status === 'success' ? dialect.encodeJson(r.output) : null,
          r.status === 'success' ? null : (r.error ?? 'cancelled'),
          retryAt,
        ];
      },
    },
    sql`
      status = case when ${runCancelled} then 'cancelled' else v.status end,
      output = ${dialect.cast(sql`v.output`, 'json')},
      error = v.error,
      run_at = coalesce(${dialect.cast(sql`v.retry_at`, 'ms')}, baton_tasks.run_at),
      finished_at = case when ${runCancelled} then ${at} when v.status = 'pending' then null else ${at} end,
      started_at = coalesce(baton_tasks.started_at, baton_tasks.dispatched_at),
      lease_id = null, lease_owner = null, lease_expires_at = null,
      updated_at = ${at}`,
    sql`baton_tasks.run_id, baton_tasks.step_name, baton_tasks.status`,
  );
}

async function rollUpRun(ctx: Ctx, runId: string, ended: Accepted[], now: number) {
  let ready = 0;
  let cancelledDownstream = 0;
  const failures = ended.filter((e) => e.status !== 'success');

  const successesByStep = [...groupBy(ended.filter((e) => e.status === 'success'), (e) => e.stepName)].sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [stepName, successes] of successesByStep) {
    const step = await ctx.db
      .updateTable('baton_run_steps')
      .set((eb) => ({ succeeded: eb('succeeded', '+', successes.length) }))
      .where('run_id', '=', runId)
      .where('step_name', '=', stepName)
      .returning(['succeeded', 'task_count', 'dependents'])
      .executeTakeFirstOrThrow();
    if (Number(step.succeeded) < Number(step.task_count)) continue;
    for (const dependent of ctx.rows.json<string[]>(step.dependents)) {
      const dep = await ctx.db
        .updateTable('baton_run_steps')
        .set((eb) => ({ deps_remaining: eb('deps_remaining', '-', 1) }))
        .where('run_id', '=', runId)
        .where('step_name', '=', dependent)
        .returning('deps_remaining')
        .executeTakeFirstOrThrow();
      if (Number(dep.deps_remaining) > 0) continue;
      const unblocked = await ctx.db
        .updateTable('baton_tasks')
        .set({ status: 'pending', run_at: now, updated_at: now })
        .where('run_id', '=', runId)
        .where('step_name', '=', dependent)
        .where('status', '=', 'waiting')
        .executeTakeFirst();
      ready += Number(unblocked.numUpdatedRows);
    }
  }

  for (const stepName of new Set(failures.map((f) => f.stepName))) {
    const step = await ctx.db
      .selectFrom('baton_run_steps')
      .select('downstream')
      .where('run_id', '=', runId)
      .where('step_name', '=', stepName)
      .executeTakeFirstOrThrow();
    const downstream = ctx.rows.json<string[]>(step.downstream);
    if (downstream.length === 0) continue;
    const cancelled = await ctx.db
      .updateTable('baton_tasks')
      .set({ status: 'cancelled', error: `upstream step "${stepName}" failed`, finished_at: now, updated_at: now })
      .where('run_id', '=', runId)
      .where('step_name', 'in', downstream)
      .where('status', '=', 'waiting')
      .executeTakeFirst();
    cancelledDownstream += Number(cancelled.numUpdatedRows);
  }

  const first = failures[0];
  const firstError = first ? `step "${first.stepName}" ${first.status}: ${first.error ?? first.status}` : null;
  const run = await ctx.db
    .updateTable('baton_runs')
    .set((eb) => ({
      tasks_finished: eb('tasks_finished', '+', ended.length + cancelledDownstream),
      tasks_failed: eb('tasks_failed', '+', failures.length + cancelledDownstream),
      // Runs whose tasks all ended before any "running" mark was written start here.
      status: sql`case when status = 'pending' then 'running' else status end`,
      started_at: sql`coalesce(started_at, ${now})`,
      ...(first && {
        failure_status: sql`coalesce(failure_status, ${runStatusAfterFailure(first.status)})`,
        error: sql`coalesce(error, ${firstError})`,
      }),
      updated_at: bumped(now),
    }))
    .where('id', '=', runId)
    .returning(['status', 'tasks_total', 'tasks_finished', 'failure_status', 'started_at', 'created_at'])
    .executeTakeFirstOrThrow();

  let finished: FinishedRun | undefined;
  const active = run.status === 'pending' || run.status === 'running';
  if (active && Number(run.tasks_finished) >= Number(run.tasks_total)) {
    const status = (run.failure_status ?? 'success') as RunStatus;
    const since = Number(run.started_at ?? run.created_at);
    await ctx.db
      .updateTable('baton_runs')
      .set({ status, finished_at: now, duration_ms: Math.max(0, now - since), started_at: run.started_at ?? since, updated_at: bumped(now) })
      .where('id', '=', runId)
      .execute();
    finished = { runId, status };
  }
  return { ready, finished };
}

