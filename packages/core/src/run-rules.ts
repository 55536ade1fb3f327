import { ConflictError } from './errors.js';
import type { Run, RunStatus, TaskStatus, ToolExecutionStatus, Workflow } from './models.js';
import type { FinishOutcome } from './store.js';
import { runDurationMs } from './rollup.js';

/**
 * The rules of a run's life outside the roll-up (`rollup.ts`): when a run may
 * be triggered or cancelled, and the texts a store writes when it ends tasks
 * on its own (a cancel, an expired lease). Every store calls these, so that
 * the same event reads the same on SQLite, PostgreSQL and files.
 */

/** A run in one of these has not finished: it can be cancelled. */
export const ACTIVE_RUN_STATUSES = ['pending', 'running'] as const satisfies readonly RunStatus[];

/** The tasks a cancel ends at once; a leased task ends when its worker finishes it (its lease answers `cancelled`). */
export const CANCELLED_AT_ONCE_TASK_STATUSES = ['waiting', 'pending'] as const satisfies readonly TaskStatus[];

/** The run's and its cancelled tasks' error when `cancelRun` is given no reason. */
export const DEFAULT_CANCEL_REASON = 'run cancelled';

/**
 * Refuses to create a run of a workflow that cannot be triggered (a draft or
 * an archived one). A paused workflow can: its tasks wait until it resumes.
 * `item` names the input in a `createRuns` call of many.
 */
export function assertTriggerable(workflow: Pick<Workflow, 'name' | 'status'>, item?: number): void {
  if (workflow.status !== 'archived' && workflow.status !== 'draft') return;
  throw new ConflictError(
    'workflow',
    `"${workflow.name}" is ${workflow.status} and cannot be triggered${item === undefined ? '' : ` (item ${item})`}`,
  );
}

/**
 * What a cancel writes on the run, beside adding the tasks it ended at once to
 * `tasksFinished` and `tasksFailed`. Times are epoch ms.
 */
export function cancelledRunFields(run: { startedAt: number | null; createdAt: number }, reason: string | undefined, now: number) {
  return {
    status: 'cancelled',
    error: reason ?? DEFAULT_CANCEL_REASON,
    failureStatus: 'cancelled',
    finishedAt: now,
    durationMs: runDurationMs(run.startedAt, run.createdAt, now),
  } as const satisfies Partial<Record<keyof Run | 'failureStatus', unknown>>;
}

/** A cancel of a run that already finished. */
export function runFinishedError(runId: string, status: RunStatus): ConflictError {
  return new ConflictError('run', `${runId} already finished as ${status}`);
}

/** The error of a task (and its run) failed because its lease expired with no attempts left. */
export function leaseExpiredMessage(attempt: number): string {
  return `lease expired on attempt ${attempt} (the worker stopped heartbeating) and no attempts remain`;
}

/** The error a task keeps when it ends: none on success, the given one, else its status (a cancel gives none). */
export function endedTaskError(result: { status: TaskStatus; error?: string | null }): string | null {
  return result.status === 'success' ? null : (result.error ?? result.status);
}

/**
 * The results of one `finishTasks` call a set-based store writes: each task's
 * first listing only (the Store contract). An `UPDATE … FROM` joining one task
 * to two listings would write either, the engine's choice.
 */
export function firstListings<T extends { taskId: string }>(results: T[]): T[] {
  const seen = new Set<string>();
  return results.filter((r) => !seen.has(r.taskId) && seen.add(r.taskId));
}

/**
 * A `finishTasks` call's answers, in its order, from what was written
 * (`written`: the status a task's first listing left) and the status of the
 * tasks whose ending was refused (`current`; `failed` for one that does not
 * exist): a repeat of a written task is refused and told the status written.
 */
export function finishOutcomes(
  results: { taskId: string }[],
  written: (taskId: string) => string | undefined,
  current: ReadonlyMap<string, string>,
): FinishOutcome[] {
  const answered = new Set<string>();
  return results.map(({ taskId }) => {
    const status = written(taskId);
    if (status === undefined) return { taskId, accepted: false, status: (current.get(taskId) ?? 'failed') as TaskStatus };
    const accepted = !answered.has(taskId);
    answered.add(taskId);
    return { taskId, accepted, status: status as TaskStatus };
  });
}

/** A finish of a tool execution whose audit record is already final. */
export function toolExecutionFinishedError(id: string, status: ToolExecutionStatus | string): ConflictError {
  return new ConflictError('tool execution', `${id} already finished (${status}); audit records are immutable`);
}
