import {
  CorruptDataError,
  type ClaimOptions,
  type ClaimedTask,
  type Lease,
  type LeaseState,
  type MarkOutcome,
  type RecoveredTask,
  type RunningMark,
  type Workflow,
} from '@baton/core';
import { leaseExpiredMessage, newId } from '@baton/core/store-kit';
import { abs, recordPath } from '../layout.js';
import type { TaskRec } from '../records.js';
import type { State } from '../state.js';
import { taskModel, workflowModel } from '../to-model.js';
import type { Unit } from '../unit.js';
import { finishTasks } from './finish.js';
import { Limits } from './limits.js';

const isLeased = (t: TaskRec | undefined): t is TaskRec => t?.status === 'dispatched' || t?.status === 'running';

/** The task under `lease`, when the lease is still held (fencing). */
function held(state: State, lease: Lease): TaskRec | undefined {
  const task = state.get('tasks', lease.taskId);
  return isLeased(task) && task.leaseId === lease.leaseId ? task : undefined;
}

/**
 * The pending-task query. It walks the in-memory pending index (priority
 * desc, runAt, id) and stops at `limit`, so it reads no file. It runs under
 * the folder lock after memory caught up with every other process's commits,
 * and the lease is written before the lock is released: two claimers, in any
 * processes, never get the same task.
 */
export function claimTasks(u: Unit, o: ClaimOptions): ClaimedTask[] {
  const now = Date.now();
  const only = o.workflowIds ? new Set(o.workflowIds) : null;
  const skip = new Set(o.excludeWorkflowIds ?? []);
  const chosen: TaskRec[] = [];
  // Built on the first limited task met: a claim over unlimited tasks pays nothing for limits.
  let limits: Limits | undefined;
  for (const id of u.state.pending.due(now)) {
    const task = u.state.get('tasks', id)!;
    if ((only && !only.has(task.workflowId)) || skip.has(task.workflowId)) continue;
    if (u.state.get('workflows', task.workflowId)?.status !== 'active') continue;
    if (task.concurrencyLimit || task.rateLimit) {
      limits ??= new Limits(u.state, now);
      if (!limits.take(task)) continue;
    }
    chosen.push(task);
    if (chosen.length === o.limit) break;
  }
  if (chosen.length === 0) return [];
  limits?.record(u);
  const leaseId = newId();
  const workflows = new Map<string, Workflow>();
  return chosen.map((task) => {
    const next: TaskRec = {
      ...task,
      status: o.running ? 'running' : 'dispatched',
      ...(o.running && { startedAt: now }),
      attempt: task.attempt + 1,
      leaseId,
      leaseOwner: o.workerId,
      leaseExpiresAt: now + o.leaseMs,
      dispatchedAt: now,
      // executionName stays: a retry may resume the previous attempt's external execution.
      updatedAt: now,
    };
    u.put('tasks', next);
    let workflow = workflows.get(task.workflowId);
    if (!workflow) workflows.set(task.workflowId, (workflow = workflowModel(u.state.get('workflows', task.workflowId)!)));
    const run = u.state.get('runs', task.runId);
    // Only a hand-deleted file gets here: say which, rather than fail on a missing property.
    if (!run) throw new CorruptDataError(abs(u.dir, recordPath('runs', task.runId)), `missing, yet task ${task.id} belongs to it`);
    // The run's next task in this claim reads it running: only the first says it started it.
    const runStarted = o.running === true && o.deferRunStart !== true && run.status === 'pending';
    if (runStarted) u.put('runs', { ...run, status: 'running', startedAt: now, updatedAt: now });
    return {
      task: taskModel(next),
      workflow,
      run: { id: run.id, inputs: structuredClone(run.inputs), triggeredBy: run.triggeredBy },
      runStarted,
      runPending: !runStarted && run.status === 'pending',
    };
  });
}

export function markRunning(u: Unit, items: RunningMark[]): MarkOutcome[] {
  const now = Date.now();
  const starts = new Map<string, number>();
  /** Each run's first held mark: the one that says it started the run. */
  const firstMark = new Map<string, MarkOutcome>();
  const result = items.map((item): MarkOutcome => {
    const task = held(u.state, item);
    if (!task) return { held: false, runStarted: false };
    // A task leased running (a claim with `running`) is left as it is unless the mark names an execution.
    const keep = task.status === 'running' && item.executionName === undefined;
    const startedAt = keep ? (task.startedAt ?? now) : (item.startedAt?.getTime() ?? now);
    if (!keep) u.put('tasks', { ...task, status: 'running', startedAt, executionName: item.executionName ?? null, updatedAt: now });
    starts.set(task.runId, Math.min(starts.get(task.runId) ?? Infinity, startedAt));
    const outcome = { held: true, runStarted: false };
    if (!firstMark.has(task.runId)) firstMark.set(task.runId, outcome);
    return outcome;
  });
  // A run starts at its first attempt's start (core rollup.ts, rule 2).
  for (const [runId, startedAt] of starts) {
    const run = u.state.get('runs', runId);
    if (run?.status !== 'pending') continue;
    u.put('runs', { ...run, status: 'running', startedAt, updatedAt: now });
    firstMark.get(runId)!.runStarted = true;
  }
  return result;
}

/** Extends held leases; the answer tells a worker whether to go on, stop (lost) or abort (cancelled). */
export function heartbeat(u: Unit, leases: Lease[], leaseMs: number): LeaseState[] {
  const expires = Date.now() + leaseMs;
  return leases.map((lease) => {
    const task = held(u.state, lease);
    if (!task) return 'lost';
    u.put('tasks', { ...task, leaseExpiresAt: expires });
    return u.state.get('runs', task.runId)?.status === 'cancelled' ? 'cancelled' : 'held';
  });
}

/** Hands held leases back without charging the attempt. */
export function releaseTasks(u: Unit, leases: Lease[]): number {
  const now = Date.now();
  let released = 0;
  for (const lease of leases) {
    const task = held(u.state, lease);
    if (!task) continue;
    u.put('tasks', {
      ...task,
      status: 'pending',
      attempt: task.attempt - 1,
      leaseId: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      runAt: now,
      updatedAt: now,
    });
    released++;
  }
  if (released > 0) u.tasksReady = true;
  return released;
}

/**
 * Expired leases with attempts left go back to pending; the rest fail through
 * finishTasks, so that their runs roll up like any failure.
 */
export function recoverExpiredLeases(u: Unit, now: Date | undefined): RecoveredTask[] {
  const at = now?.getTime() ?? Date.now();
  const expired = [...u.state.leased]
    .map((id) => u.state.get('tasks', id)!)
    .filter((t) => t.leaseExpiresAt !== null && t.leaseExpiresAt < at);
  const requeued: RecoveredTask[] = [];
  const exhausted: TaskRec[] = [];
  for (const task of expired) {
    if (task.attempt < task.maxAttempts) {
      // runAt stays: the task goes back to its old place in the queue, not behind what came since.
      u.put('tasks', { ...task, status: 'pending', leaseId: null, leaseOwner: null, leaseExpiresAt: null, updatedAt: at });
      requeued.push({ taskId: task.id, runId: task.runId, status: 'pending' });
    } else exhausted.push(task);
  }
  if (requeued.length > 0) u.tasksReady = true;
  if (exhausted.length > 0) {
    finishTasks(
      u,
      exhausted.map((t) => ({
        taskId: t.id,
        leaseId: t.leaseId!,
        status: 'failed' as const,
        error: leaseExpiredMessage(t.attempt),
      })),
    );
  }
  return [...requeued, ...exhausted.map((t) => ({ taskId: t.id, runId: t.runId, status: 'failed' as const }))];
}
