import type { Json } from '@baton/core';

/**
 * The parts of Cloud Run Admin API v2 resources the executor reads.
 * https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs.executions
 */

export interface Condition {
  type?: string;
  /** CONDITION_PENDING, CONDITION_RECONCILING, CONDITION_SUCCEEDED or CONDITION_FAILED. */
  state?: string;
  message?: string;
  reason?: string;
  executionReason?: string;
}

export interface Execution {
  /** `projects/{project}/locations/{region}/jobs/{job}/executions/{execution}` */
  name?: string;
  taskCount?: number;
  runningCount?: number;
  succeededCount?: number;
  failedCount?: number;
  cancelledCount?: number;
  retriedCount?: number;
  completionTime?: string;
  conditions?: Condition[];
  logUri?: string;
}

/** A long-running Operation; for `jobs.run` its `metadata` is the Execution. */
export interface Operation {
  name?: string;
  done?: boolean;
  metadata?: Execution;
  error?: { code?: number; message?: string };
}

function completed(execution: Execution): Condition | undefined {
  return execution.conditions?.find((c) => c.type === 'Completed');
}

/** Finished: a completion time, or a `Completed` condition that succeeded or failed. */
export function isDone(execution: Execution): boolean {
  const state = completed(execution)?.state;
  return Boolean(execution.completionTime) || state === 'CONDITION_SUCCEEDED' || state === 'CONDITION_FAILED';
}

export function isSuccess(execution: Execution): boolean {
  const state = completed(execution)?.state;
  if (state !== undefined && state !== 'CONDITION_PENDING' && state !== 'CONDITION_RECONCILING') return state === 'CONDITION_SUCCEEDED';
  return (execution.failedCount ?? 0) === 0 && (execution.cancelledCount ?? 0) === 0;
}

export function failureMessage(execution: Execution): string {
  const condition = completed(execution);
  const why = condition?.message || condition?.executionReason || condition?.reason || 'no message';
  return `${why} (${counts(execution)})`;
}

export function counts(execution: Execution): string {
  const n = execution.taskCount ?? 0;
  return `${execution.succeededCount ?? 0} succeeded, ${execution.failedCount ?? 0} failed, ${execution.cancelledCount ?? 0} cancelled of ${n}`;
}

/** The task output of a succeeded execution. */
export function executionOutput(execution: Execution): { [key: string]: Json } {
  return {
    executionName: execution.name ?? null,
    taskCount: execution.taskCount ?? null,
    succeededCount: execution.succeededCount ?? 0,
    failedCount: execution.failedCount ?? 0,
    cancelledCount: execution.cancelledCount ?? 0,
    retriedCount: execution.retriedCount ?? 0,
    completionTime: execution.completionTime ?? null,
    logUri: execution.logUri ?? null,
  };
}
