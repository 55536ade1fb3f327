import {
  NotFoundError,
  type Json,
  type NewRun,
  type Page,
  RUN_STATUSES,
  type Run,
  type RunCounts,
  type RunQuery,
  type Task,
  type TaskQuery,
} from '@baton/core';
import {
  ACTIVE_RUN_STATUSES,
  CANCELLED_AT_ONCE_TASK_STATUSES,
  assertTriggerable,
  cancelledRunFields,
  newId,
  newRun,
  runFinishedError,
  planRun,
} from '@baton/core/store-kit';
import { bumped, cloneJson, decodeCursor, takePage, where } from '../page.js';
import type { RunRec, TaskRec } from '../records.js';
import type { State } from '../state.js';
import { runModel, taskModel } from '../to-model.js';
import type { Unit } from '../unit.js';
import { workflowRec } from './workflows.js';

export function runRec(state: State, id: string): RunRec {
  const rec = state.get('runs', id);
  if (!rec) throw new NotFoundError('run', id);
  return rec;
}

function taskRec(state: State, id: string): TaskRec {
  const rec = state.get('tasks', id);
  if (!rec) throw new NotFoundError('task', id);
  return rec;
}

/** Writes the run, its step state and every task in the caller's unit: one commit, one journal. */
export function createRun(u: Unit, input: NewRun, item?: number): { run: Run; created: boolean } {
  if (input.idempotencyKey) {
    const existing = u.state.runIdByIdempotencyKey.get(`${input.workflowId}\n${input.idempotencyKey}`);
    if (existing !== undefined) return { run: runModel(runRec(u.state, existing)), created: false };
  }
  const workflow = workflowRec(u.state, input.workflowId);
  assertTriggerable(workflow, item);
  const plan = planRun(
    { ...workflow, createdAt: new Date(workflow.createdAt), updatedAt: new Date(workflow.updatedAt) },
    input.inputs ?? {},
    item,
  );
  const now = Date.now();
  const runAt = input.runAt?.getTime() ?? now;
  const run: RunRec = {
    ...cloneJson(newRun(newId(), input, workflow, plan.tasks.length, now)),
    failureStatus: null,
    // Records keep times as epoch milliseconds.
    createdAt: now,
    updatedAt: now,
  };
  u.put('runs', run);
  u.put('run-steps', {
    runId: run.id,
    steps: plan.steps.map((s) => ({
      name: s.name,
      position: s.position,
      taskCount: s.taskCount,
      succeeded: 0,
      depsRemaining: s.dependsOn.length,
      dependsOn: s.dependsOn,
      dependents: s.dependents,
      downstream: s.downstream,
    })),
  });
  const positions = new Map(plan.steps.map((s) => [s.name, s.position]));
  for (const t of plan.tasks) {
    u.put('tasks', {
      id: t.id,
      runId: run.id,
      workflowId: workflow.id,
      stepName: t.stepName,
      position: positions.get(t.stepName)!,
      taskIndex: t.taskIndex,
      taskCount: t.taskCount,
      status: t.status,
      params: cloneJson(t.params),
      output: null,
      error: null,
      executionName: null,
      priority: input.priority ?? t.priority,
      runAt,
      attempt: 0,
      maxAttempts: t.maxAttempts,
      leaseId: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      metadata: cloneJson(t.metadata),
      workspace: t.workspace,
      concurrencyLimit: t.concurrencyLimit,
      rateLimit: t.rateLimit,
      dispatchedAt: null,
      startedAt: null,
      finishedAt: null,
      createdAt: now,
      updatedAt: now,
    });
  }
  if (plan.tasks.some((t) => t.status === 'pending')) u.tasksReady = true;
  return { run: runModel(run), created: true };
}

/** Many runs in this unit: all or nothing (the unit rolls back when one throws). */
export function createRuns(u: Unit, inputs: NewRun[]): { run: Run; created: boolean }[] {
  return inputs.map((input, i) => createRun(u, input, inputs.length > 1 ? i : undefined));
}

export function getRun(state: State, id: string): Run {
  return runModel(runRec(state, id));
}

/** Newest first: ids are UUIDv7, so id order is creation order. */
export function listRuns(state: State, query: RunQuery): Page<Run> {
  const before = decodeCursor(query.cursor, 1);
  const recs = [...state.records.runs.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  return takePage(
    where(
      recs,
      (r) =>
        (!query.workflowId || r.workflowId === query.workflowId) &&
        (!query.status || r.status === query.status) &&
        (!query.triggeredBy || r.triggeredBy === query.triggeredBy) &&
        (!before || r.id < String(before[0])),
    ),
    query.limit,
    runModel,
    (r) => [r.id],
  );
}

export function countRuns(state: State, query: { workflowId?: string }): RunCounts {
  const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as RunCounts;
  for (const r of state.records.runs.values()) if (!query.workflowId || r.workflowId === query.workflowId) counts[r.status]++;
  return counts;
}

const activeRun = new Set<string>(ACTIVE_RUN_STATUSES);
const cancelledAtOnce = new Set<string>(CANCELLED_AT_ONCE_TASK_STATUSES);

/** Cancels the run and its waiting and pending tasks; leased tasks end when their workers finish them. */
export function cancelRun(u: Unit, id: string, reason?: string): Run {
  const run = runRec(u.state, id);
  if (!activeRun.has(run.status)) throw runFinishedError(id, run.status);
  const now = Date.now();
  const ended = cancelledRunFields(run, reason, now);
  let cancelled = 0;
  for (const taskId of u.state.tasksOfRun(id)) {
    const task = u.state.get('tasks', taskId)!;
    if (!cancelledAtOnce.has(task.status)) continue;
    u.put('tasks', { ...task, status: 'cancelled', error: ended.error, finishedAt: now, updatedAt: now });
    cancelled++;
  }
  const next: RunRec = {
    ...run,
    ...ended,
    tasksFinished: run.tasksFinished + cancelled,
    tasksFailed: run.tasksFailed + cancelled,
    updatedAt: bumped(run.updatedAt, now),
  };
  u.put('runs', next);
  return runModel(next);
}

export function getTask(state: State, id: string): Task {
  return taskModel(taskRec(state, id));
}

/** The newest (highest id) of the tasks carrying this execution name, through the state's index. */
export function findTaskByExecutionName(state: State, executionName: string): Task | null {
  let newest: string | undefined;
  for (const id of state.tasksByExecutionName.get(executionName) ?? []) if (newest === undefined || id > newest) newest = id;
  return newest === undefined ? null : taskModel(taskRec(state, newest));
}

/** Plan order: steps as defined, then task index. */
export function listTasks(state: State, query: TaskQuery): Page<Task> {
  const after = decodeCursor(query.cursor, 2);
  const ids = state.tasksOfRun(query.runId);
  let start = 0;
  if (after) {
    const [position, index] = after.map(Number) as [number, number];
    // Binary search for the first task past the cursor.
    let hi = ids.length;
    while (start < hi) {
      const mid = (start + hi) >>> 1;
      const t = state.get('tasks', ids[mid]!)!;
      if (t.position < position || (t.position === position && t.taskIndex <= index)) start = mid + 1;
      else hi = mid;
    }
  }
  function* recs() {
    for (let i = start; i < ids.length; i++) yield state.get('tasks', ids[i]!)!;
  }
  return takePage(
    where(recs(), (t) => (!query.status || t.status === query.status) && (!query.stepName || t.stepName === query.stepName)),
    query.limit,
    taskModel,
    (t) => [t.position, t.taskIndex],
  );
}

export function getStepOutputs(state: State, runId: string, stepNames: string[]): { [step: string]: (Json | null)[] } {
  const out: { [step: string]: (Json | null)[] } = Object.fromEntries(stepNames.map((s) => [s, []]));
  if (stepNames.length === 0) return out;
  const wanted = new Set(stepNames);
  for (const id of state.tasksOfRun(runId)) {
    const t = state.get('tasks', id)!;
    if (wanted.has(t.stepName) && t.status === 'success') out[t.stepName]!.push(structuredClone(t.output));
  }
  return out;
}
