import type { Run, TaskStatus } from '@baton/core';
import { RETRYABLE_TASK_STATUSES, planRetry } from '@baton/core/store-kit';
import { bumped } from '../page.js';
import type { RunRec } from '../records.js';
import { runModel } from '../to-model.js';
import type { Unit } from '../unit.js';
import { runRec } from './runs.js';

const retryable = new Set<string>(RETRYABLE_TASK_STATUSES);

/** Retries a finished run as core's `planRetry` decides, in the caller's unit (one commit). */
export function retryRun(u: Unit, id: string): Run {
  const run = runRec(u.state, id);
  const counts = new Map<string, { stepName: string; status: TaskStatus; count: number }>();
  for (const taskId of u.state.tasksOfRun(id)) {
    const t = u.state.get('tasks', taskId)!;
    if (t.status === 'success') continue;
    const key = `${t.stepName}\n${t.status}`;
    const c = counts.get(key) ?? counts.set(key, { stepName: t.stepName, status: t.status, count: 0 }).get(key)!;
    c.count++;
  }
  const steps = u.state.get('run-steps', id)?.steps ?? [];
  const plan = planRetry({
    runId: id,
    status: run.status,
    startedAt: run.startedAt === null ? null : new Date(run.startedAt),
    taskCounts: [...counts.values()],
    depsRemaining: Object.fromEntries(steps.map((s) => [s.name, s.depsRemaining])),
  });
  const now = Date.now();
  const ready = new Set(plan.readySteps);
  const waiting = new Set(plan.waitingSteps);
  for (const taskId of u.state.tasksOfRun(id)) {
    const t = u.state.get('tasks', taskId)!;
    if (!retryable.has(t.status) || !(ready.has(t.stepName) || waiting.has(t.stepName))) continue;
    u.put('tasks', {
      ...t,
      status: ready.has(t.stepName) ? 'pending' : 'waiting',
      output: null,
      error: null,
      executionName: null,
      attempt: 0,
      runAt: now,
      leaseId: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      dispatchedAt: null,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    });
  }
  const next: RunRec = {
    ...run,
    status: plan.runStatus,
    error: null,
    failureStatus: null,
    tasksFinished: run.tasksFinished - plan.tasks,
    tasksFailed: run.tasksFailed - plan.tasks,
    finishedAt: null,
    durationMs: null,
    updatedAt: bumped(run.updatedAt, now),
  };
  u.put('runs', next);
  if (ready.size > 0) u.tasksReady = true;
  return runModel(next);
}
