import { RetryRefusedError } from './errors.js';
import { FINISHED_RUN_STATUSES, type RunStatus, type TaskStatus } from './models.js';

/** Task statuses a retry takes back: every way a task can end but success. */
export const RETRYABLE_TASK_STATUSES = ['failed', 'timeout', 'cancelled'] as const satisfies readonly TaskStatus[];

/** What a store reads before a retry: the run, and its tasks that did not succeed, counted by step and status. */
export interface RetryInput {
  runId: string;
  status: RunStatus;
  startedAt: Date | null;
  /** The run's tasks that have not succeeded, counted per step and status (succeeded ones may be left out). */
  taskCounts: { stepName: string; status: TaskStatus; count: number }[];
  /** Per step: upstream steps that have not yet succeeded entirely (the store's step state). */
  depsRemaining: { [stepName: string]: number };
}

/** What a store writes for a retry. */
export interface RetryPlan {
  /** Steps whose failed, timed-out and cancelled tasks go back to `pending`: every upstream step succeeded. */
  readySteps: string[];
  /** Steps whose failed, timed-out and cancelled tasks go back to `waiting` for their upstream steps. */
  waitingSteps: string[];
  /** How many tasks go back: the run's finished and failed counters both drop by this. */
  tasks: number;
  /** The run's status again: `running` once it had started, `pending` otherwise. */
  runStatus: 'pending' | 'running';
}

/**
 * Decides a retry of a finished run (shared by every store): its failed,
 * timed-out and cancelled tasks go back with fresh attempts, to `pending` when
 * their step's upstream steps all succeeded, to `waiting` otherwise (they
 * become pending when those succeed, as in a first run). The run becomes
 * active again, its failure forgotten, and rolls up as any run does.
 *
 * Refused with a RetryRefusedError for a run that is not finished, that
 * succeeded, that still has leased tasks winding down (a cancelled run whose
 * workers have not yet stopped), or that has nothing to retry.
 */
export function planRetry(input: RetryInput): RetryPlan {
  const { runId, status } = input;
  if (!(FINISHED_RUN_STATUSES as readonly string[]).includes(status)) throw new RetryRefusedError(runId, `it is ${status}, not finished`);
  if (status === 'success') throw new RetryRefusedError(runId, 'it succeeded: nothing to retry');
  const leased = input.taskCounts.filter((c) => (c.status === 'dispatched' || c.status === 'running') && c.count > 0);
  if (leased.length > 0) {
    throw new RetryRefusedError(runId, `tasks of step "${leased[0]!.stepName}" are still held by a worker; retry once they have stopped`);
  }
  const retryable = new Map<string, number>();
  for (const c of input.taskCounts) {
    if (c.count > 0 && (RETRYABLE_TASK_STATUSES as readonly string[]).includes(c.status))
      retryable.set(c.stepName, (retryable.get(c.stepName) ?? 0) + c.count);
  }
  if (retryable.size === 0) throw new RetryRefusedError(runId, 'it has no failed, timed-out or cancelled task');
  const steps = [...retryable.keys()].sort();
  return {
    readySteps: steps.filter((s) => (input.depsRemaining[s] ?? 0) <= 0),
    waitingSteps: steps.filter((s) => (input.depsRemaining[s] ?? 0) > 0),
    tasks: [...retryable.values()].reduce((a, b) => a + b, 0),
    runStatus: input.startedAt ? 'running' : 'pending',
  };
}
