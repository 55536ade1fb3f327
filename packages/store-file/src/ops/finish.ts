import type { FinishOutcome, FinishResult, FinishedRun, TaskResult } from '@baton/core';
import type { Ending, RunDelta } from '@baton/core/store-kit';
import { endedTaskError, foldEndings, runDurationMs, runEndStatus, upstreamFailedMessage } from '@baton/core/store-kit';
import { bumped, cloneJson } from '../page.js';
import type { RunRec, StepState, TaskRec } from '../records.js';
import type { Unit } from '../unit.js';

/**
 * Ends attempts and does all that follows in the same unit (one commit):
 * fencing, unblocking dependents, cancelling downstream of a failure, and
 * rolling the runs up by core's roll-up rules (`@baton/core` rollup.ts), the
 * same the SQL stores follow. Many endings of one run fold into one run write
 * and one step-state write.
 */
export function finishTasks(u: Unit, results: TaskResult[]): FinishResult {
  const now = Date.now();
  const outcomes: FinishOutcome[] = [];
  const endings: Ending[] = [];
  let readyTasks = 0;

  for (const result of results) {
    const task = writeResult(u, result, now);
    if (!task) {
      outcomes.push({ taskId: result.taskId, accepted: false, status: u.state.get('tasks', result.taskId)?.status ?? 'failed' });
      continue;
    }
    outcomes.push({ taskId: result.taskId, accepted: true, status: task.status });
    if (task.status === 'pending') readyTasks++;
    endings.push({ runId: task.runId, stepName: task.stepName, status: task.status, error: task.error, startedAt: task.startedAt });
  }

  const finishedRuns: FinishedRun[] = [];
  const startedRuns: string[] = [];
  for (const delta of foldEndings(endings)) {
    const rollup = rollUpRun(u, delta, now);
    readyTasks += rollup.ready;
    if (rollup.finished) finishedRuns.push(rollup.finished);
    if (rollup.started) startedRuns.push(delta.runId);
  }
  if (readyTasks > 0) u.tasksReady = true;
  return { outcomes, finishedRuns, startedRuns, readyTasks };
}

/** The fenced write of one result; undefined when the lease is not held. */
function writeResult(u: Unit, result: TaskResult, now: number): TaskRec | undefined {
  const task = u.state.get('tasks', result.taskId);
  if (!task || task.leaseId !== result.leaseId || (task.status !== 'dispatched' && task.status !== 'running')) return undefined;
  const runCancelled = u.state.get('runs', task.runId)?.status === 'cancelled';
  // startedAt: the attempt's start the worker gave, else its "running" mark's, else its dispatch.
  const startedAt = result.startedAt?.getTime() ?? task.startedAt ?? task.dispatchedAt;
  const cleared = { leaseId: null, leaseOwner: null, leaseExpiresAt: null, updatedAt: now, startedAt };
  let next: TaskRec;
  if (result.status !== 'cancelled' && 'retryAt' in result && result.retryAt) {
    // A retry of a task whose run was cancelled meanwhile ends it instead.
    next = {
      ...task,
      ...cleared,
      status: runCancelled ? 'cancelled' : 'pending',
      error: result.error,
      runAt: result.retryAt.getTime(),
      finishedAt: runCancelled ? now : null,
    };
  } else {
    const success = result.status === 'success';
    next = {
      ...task,
      ...cleared,
      status: runCancelled ? 'cancelled' : result.status,
      output: success ? cloneJson(result.output) : null,
      error: endedTaskError(result),
      finishedAt: now,
    };
  }
  u.put('tasks', next);
  return next;
}

function rollUpRun(u: Unit, delta: RunDelta, now: number): { ready: number; finished?: FinishedRun; started?: boolean } {
  const { runId } = delta;
  const stepsRec = u.state.get('run-steps', runId);
  const steps = new Map<string, StepState>((stepsRec?.steps ?? []).map((s) => [s.name, { ...s }]));
  let ready = 0;
  let cancelledDownstream = 0;
  let stepsChanged = false;

  for (const [stepName, count] of delta.successes) {
    const step = steps.get(stepName);
    if (!step) continue;
    stepsChanged = true;
    step.succeeded += count;
    if (step.succeeded < step.taskCount) continue;
    for (const name of step.dependents) {
      const dependent = steps.get(name);
      if (!dependent) continue;
      dependent.depsRemaining -= 1;
      if (dependent.depsRemaining > 0) continue;
      ready += updateTasks(
        u,
        runId,
        (t) => t.stepName === name && t.status === 'waiting',
        (t) => ({ ...t, status: 'pending', runAt: now, updatedAt: now }),
      );
    }
  }

  for (const stepName of delta.failedSteps) {
    const downstream = new Set(steps.get(stepName)?.downstream ?? []);
    if (downstream.size === 0) continue;
    cancelledDownstream += updateTasks(
      u,
      runId,
      (t) => downstream.has(t.stepName) && t.status === 'waiting',
      (t) => ({ ...t, status: 'cancelled', error: upstreamFailedMessage(stepName), finishedAt: now, updatedAt: now }),
    );
  }
  if (stepsRec && stepsChanged) u.put('run-steps', { runId, steps: stepsRec.steps.map((s) => steps.get(s.name)!) });

  const run = u.state.get('runs', runId);
  if (!run) return { ready };
  const next: RunRec = {
    ...run,
    tasksFinished: run.tasksFinished + delta.finished + cancelledDownstream,
    tasksFailed: run.tasksFailed + delta.failed + cancelledDownstream,
    status: run.status === 'pending' ? 'running' : run.status,
    startedAt: run.startedAt ?? delta.startedAt ?? now,
    failureStatus: run.failureStatus ?? delta.firstFailure?.status ?? null,
    error: run.error ?? delta.firstFailure?.error ?? null,
    updatedAt: bumped(run.updatedAt, now),
  };
  let finished: FinishedRun | undefined;
  const status = runEndStatus(next);
  if (status) {
    Object.assign(next, {
      status,
      finishedAt: now,
      durationMs: runDurationMs(next.startedAt, next.createdAt, now),
      updatedAt: bumped(next.updatedAt, now),
    });
    finished = { runId, status };
  }
  u.put('runs', next);
  // Rule 2: an ending starts a run still pending (its claim deferred the start, or nothing marked it).
  return { ready, ...(finished && { finished }), started: run.status === 'pending' };
}

/** Rewrites the run's tasks that match; returns how many. */
function updateTasks(u: Unit, runId: string, match: (t: TaskRec) => boolean, change: (t: TaskRec) => TaskRec): number {
  let n = 0;
  for (const id of u.state.tasksOfRun(runId)) {
    const task = u.state.get('tasks', id)!;
    if (!match(task)) continue;
    u.put('tasks', change(task));
    n++;
  }
  return n;
}
