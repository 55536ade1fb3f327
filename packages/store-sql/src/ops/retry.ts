import { ConflictError, type Run, type TaskStatus } from '@baton/core';
import { RETRYABLE_TASK_STATUSES, planRetry } from '@baton/core/store-kit';
import { bumped, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';
import { getRun, tasksOfRun } from './runs.js';

/**
 * Retries a finished run as core's `planRetry` decides. A constant number of
 * statements however many tasks go back: two reads (the run's task counts
 * grouped by step and status, found through `baton_run_tasks`; the step
 * state), one guarded run write, and one task write per target status.
 */
export async function retryRun(ctx: Ctx, id: string): Promise<Run> {
  return ctx.tx(async (ctx) => {
    const run = await getRun(ctx, id);
    const counts = await ctx.db
      .selectFrom('baton_tasks')
      .select((eb) => ['step_name', 'status', eb.fn.countAll<number>().as('n')])
      .where('id', 'in', tasksOfRun(ctx, id))
      .where('status', '!=', 'success')
      .groupBy(['step_name', 'status'])
      .execute();
    const steps = await ctx.db.selectFrom('baton_run_steps').select(['step_name', 'deps_remaining']).where('run_id', '=', id).execute();
    const plan = planRetry({
      runId: id,
      status: run.status,
      startedAt: run.startedAt,
      taskCounts: counts.map((c) => ({ stepName: c.step_name, status: c.status as TaskStatus, count: Number(c.n) })),
      depsRemaining: Object.fromEntries(steps.map((s) => [s.step_name, Number(s.deps_remaining)])),
    });
    const now = nowMs();
    // Guarded by the status read above: of two concurrent retries, the second finds the run active and refuses.
    const claimed = await ctx.db
      .updateTable('baton_runs')
      .set((eb) => ({
        status: plan.runStatus,
        error: null,
        failure_status: null,
        tasks_finished: eb('tasks_finished', '-', plan.tasks),
        tasks_failed: eb('tasks_failed', '-', plan.tasks),
        finished_at: null,
        duration_ms: null,
        updated_at: bumped(now),
      }))
      .where('id', '=', id)
      .where('status', '=', run.status)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) throw new ConflictError('run', `${id} changed while being retried`);
    const fresh = {
      output: null,
      error: null,
      execution_name: null,
      attempt: 0,
      run_at: now,
      lease_id: null,
      lease_owner: null,
      lease_expires_at: null,
      dispatched_at: null,
      started_at: null,
      finished_at: null,
      updated_at: now,
    };
    for (const [status, stepNames] of [
      ['pending', plan.readySteps],
      ['waiting', plan.waitingSteps],
    ] as const) {
      if (stepNames.length === 0) continue;
      await ctx.db
        .updateTable('baton_tasks')
        .set({ ...fresh, status })
        .where('id', 'in', tasksOfRun(ctx, id))
        .where('step_name', 'in', stepNames)
        .where('status', 'in', [...RETRYABLE_TASK_STATUSES])
        .execute();
    }
    if (plan.readySteps.length > 0) await ctx.dialect.notifyTasksReady?.(ctx.db);
    return getRun(ctx, id);
  });
}
