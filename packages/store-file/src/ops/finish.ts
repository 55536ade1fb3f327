import type { FinishOutcome, FinishResult, FinishedRun, RunStatus, TaskResult, TaskStatus } from '@baton/core';
import { groupBy, runStatusAfterFailure } from '@baton/core';
import { bumped, cloneJson } from '../page.js';
import type { RunRec, StepState, TaskRec } from '../records.js';
import type { Unit } from '../unit.js';

interface Ended {
  runId: string;
  stepName: string;
  status: TaskStatus;
  error: string | null;
}

/**
 * Ends attempts and does all that follows in the same unit (one commit):
 * fencing, unblocking dependents, cancelling downstream of a failure, and
 * rolling the run up. Many endings of one run fold into one run write and one
 * step-state write.
 */
export function finishTasks(u: Unit, results: TaskResult[]): FinishResult {
  const now = Date.now();
  const outcomes: FinishOutcome[] = [];
  const ended: Ended[] = [];
  let readyTasks = 0;

  for (const result of results) {
    const task = writeResult(u, result, now);
    if (!task) {
      outcomes.push({ taskId: result.taskId, accepted: false, status: u.state.get('tasks', result.taskId)?.status ?? 'failed' });
      continue;
    }
    outcomes.push({ taskId: result.taskId, accepted: true, status: task.status });
    if (task.status === 'pending') readyTasks++;
    else ended.push({ runId: task.runId, stepName: task.stepName, status: task.status, error: 'error' in result ? (result.error ?? null) : null });
  }

  const finishedRuns: FinishedRun[] = [];
  for (const [runId, group] of groupBy(ended, (e) => e.runId)) {
    const rollup = rollUpRun(u, runId, group, now);
    readyTasks += rollup.ready;
    if (rollup.finished) finishedRuns.push(rollup.finished);
  }
  if (readyTasks > 0) u.tasksReady = true;
  return { outcomes, finishedRuns, readyTasks };
}

/** The fenced write of one result; undefined when the lease is not held. */
function writeResult(u: Unit, result: TaskResult, now: number): TaskRec | undefined {
  const task = u.state.get('tasks', result.taskId);
  if (!task || task.leaseId !== result.leaseId || (task.status !== 'dispatched' && task.status !== 'running')) return undefined;
  const runCancelled = u.state.get('runs', task.runId)?.status === 'cancelled';
  // startedAt: a task that ended before its "running" mark was written started when it was dispatched.
  const cleared = { leaseId: null, leaseOwner: null, leaseExpiresAt: null, updatedAt: now, startedAt: task.startedAt ?? task.dispatchedAt };
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
      error: success ? null : (result.error ?? 'cancelled'),
      finishedAt: now,
    };
  }
  u.put('tasks', next);
  return next;
}

function rollUpRun(u: Unit, runId: string, ended: Ended[], now: number): { ready: number; finished?: FinishedRun } {
  const stepsRec = u.state.get('run-steps', runId);
  const steps = new Map<string, StepState>((stepsRec?.steps ?? []).map((s) => [s.name, { ...s }]));
  const failures = ended.filter((e) => e.status !== 'success');
  let ready = 0;
  let cancelledDownstream = 0;
  let stepsChanged = false;

  for (const [stepName, successes] of groupBy(
    ended.filter((e) => e.status === 'success'),
    (e) => e.stepName,
  )) {
    const step = steps.get(stepName);
    if (!step) continue;
    stepsChanged = true;
    step.succeeded += successes.length;
    if (step.succeeded < step.taskCount) continue;
    for (const name of step.dependents) {
      const dependent = steps.get(name);
      if (!dependent) continue;
      dependent.depsRemaining -= 1;
      if (dependent.depsRemaining > 0) continue;
      ready += updateTasks(u, runId, (t) => t.stepName === name && t.status === 'waiting', (t) => ({ ...t, status: 'pending', runAt: now, updatedAt: now }));
    }
  }

  for (const stepName of new Set(failures.map((f) => f.stepName))) {
    const downstream = new Set(steps.get(stepName)?.downstream ?? []);
    if (downstream.size === 0) continue;
    cancelledDownstream += updateTasks(
      u,
      runId,
      (t) => downstream.has(t.stepName) && t.status === 'waiting',
      (t) => ({ ...t, status: 'cancelled', error: `upstream step "${stepName}" failed`, finishedAt: now, updatedAt: now }),
    );
  }
  if (stepsRec && stepsChanged) u.put('run-steps', { runId, steps: stepsRec.steps.map((s) => steps.get(s.name)!) });

  const run = u.state.get('runs', runId);
  if (!run) return { ready };
  const first = failures[0];
  const next: RunRec = {
    ...run,
    tasksFinished: run.tasksFinished + ended.length + cancelledDownstream,
    tasksFailed: run.tasksFailed + failures.length + cancelledDownstream,
    // Runs whose tasks all ended before any "running" mark was written start here.
    status: run.status === 'pending' ? 'running' : run.status,
    startedAt: run.startedAt ?? now,
    ...(first && {
      failureStatus: run.failureStatus ?? runStatusAfterFailure(first.status),
      error: run.error ?? `step "${first.stepName}" ${first.status}: ${first.error ?? first.status}`,
    }),
    updatedAt: bumped(run.updatedAt, now),
  };
  let finished: FinishedRun | undefined;
  if ((next.status === 'pending' || next.status === 'running') && next.tasksFinished >= next.tasksTotal) {
    const status: RunStatus = next.failureStatus ?? 'success';
    const since = next.startedAt ?? next.createdAt;
    Object.assign(next, { status, finishedAt: now, durationMs: Math.max(0, now - since), startedAt: since, updatedAt: bumped(next.updatedAt, now) });
    finished = { runId, status };
  }
  u.put('runs', next);
  return { ready, ...(finished && { finished }) };
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

