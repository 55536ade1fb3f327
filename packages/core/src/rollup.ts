import type { RunStatus, TaskStatus } from './models.js';

/**
 * The roll-up rules: what finishing tasks does to their run. Every store
 * follows these: the file store and the SQL stores' portable path call them,
 * and PostgreSQL's one-statement finish (store-pg `finish-statement.ts`)
 * spells the same rules in SQL, point by point, with the conformance suite
 * checking that all three agree.
 *
 * 1. An attempt that ended with a retry scheduled (the task is `pending`
 *    again) counts for nothing but the run's start.
 * 2. A run starts when its first attempt started: `startedAt` is the earliest
 *    attempt start the store learns of (a "running" mark or an ending).
 * 3. Every other ending counts as finished; an ending that is not `success`
 *    counts as failed too, and cancels the `waiting` tasks of every step
 *    downstream of its step (each of those counts as finished and failed).
 * 4. A step whose successes reach its task count lowers `depsRemaining` of
 *    each dependent step by one; at zero its `waiting` tasks become `pending`.
 * 5. The run's first failure (in the order the endings were given, never
 *    replaced later) sets its failure status ({@link runStatusAfterFailure})
 *    and its error ({@link failureMessage}).
 * 6. A run still `pending` or `running` whose finished count reaches its
 *    total ends: its failure status or `success`, `durationMs` from its start.
 */

/**
 * Whether a step needs the per-run counters of rules 3 and 4: only a step with
 * dependents (its successes unblock them, its failures cancel downstream) or
 * with dependencies (its `depsRemaining` counts down). A single-task run's
 * step needs none, so a store may skip writing one.
 */
export function stepNeedsCounters(step: { dependsOn: readonly string[]; dependents: readonly string[] }): boolean {
  return step.dependsOn.length > 0 || step.dependents.length > 0;
}

/** The status a run ends with when a task of it ends in `status` (not success). */
export function runStatusAfterFailure(status: TaskStatus): RunStatus {
  return status === 'timeout' ? 'timeout' : status === 'cancelled' ? 'cancelled' : 'failed';
}

/** The run's error after its first failure (rule 5). */
export function failureMessage(stepName: string, status: TaskStatus, error: string | null): string {
  return `step "${stepName}" ${status}: ${error ?? status}`;
}

/** The error of a waiting task cancelled because an upstream step failed (rule 3). */
export function upstreamFailedMessage(stepName: string): string {
  return `upstream step "${stepName}" failed`;
}

/** One accepted ending, as the store wrote it. */
export interface Ending {
  runId: string;
  stepName: string;
  /** The task's status after the write: `pending` when a retry was scheduled. */
  status: TaskStatus;
  error: string | null;
  /** When the attempt started (epoch ms), if known. */
  startedAt: number | null;
}

/** What a batch of endings does to one run, before dependents and downstream are looked up. */
export interface RunDelta {
  runId: string;
  /** Endings that count as finished (rule 1, 3). */
  finished: number;
  failed: number;
  /** Successes per step, steps in name order (rule 4). */
  successes: [stepName: string, count: number][];
  /** Steps with a failure, in name order (rule 3). */
  failedSteps: string[];
  /** The batch's first failure (rule 5). */
  firstFailure: { status: RunStatus; error: string } | null;
  /** Earliest attempt start in the batch (rule 2). */
  startedAt: number | null;
}

/**
 * Folds a batch of endings into one delta per run, runs in id order (every
 * writer takes run locks in one order), so that a batch costs one write per
 * run row and per step row whatever its size.
 */
export function foldEndings(endings: Iterable<Ending>): RunDelta[] {
  const runs = new Map<string, RunDelta & { bySuccess: Map<string, number>; failedSet: Set<string> }>();
  for (const e of endings) {
    let d = runs.get(e.runId);
    if (!d) {
      d = {
        runId: e.runId,
        finished: 0,
        failed: 0,
        successes: [],
        failedSteps: [],
        firstFailure: null,
        startedAt: null,
        bySuccess: new Map(),
        failedSet: new Set(),
      };
      runs.set(e.runId, d);
    }
    if (e.startedAt !== null && (d.startedAt === null || e.startedAt < d.startedAt)) d.startedAt = e.startedAt;
    if (e.status === 'pending') continue;
    d.finished++;
    if (e.status === 'success') {
      d.bySuccess.set(e.stepName, (d.bySuccess.get(e.stepName) ?? 0) + 1);
      continue;
    }
    d.failed++;
    d.failedSet.add(e.stepName);
    d.firstFailure ??= { status: runStatusAfterFailure(e.status), error: failureMessage(e.stepName, e.status, e.error) };
  }
  const byName = <T>(a: [string, T] | string, b: [string, T] | string) =>
    (Array.isArray(a) ? a[0] : a) < (Array.isArray(b) ? b[0] : b) ? -1 : 1;
  return [...runs.values()]
    .sort((a, b) => (a.runId < b.runId ? -1 : 1))
    .map((d) => ({
      // Spelled out, not rest-and-spread: one delta a run, so for single-task runs one a task (see attempt.ts).
      runId: d.runId,
      finished: d.finished,
      failed: d.failed,
      successes: [...d.bySuccess].sort(byName),
      failedSteps: [...d.failedSet].sort(),
      firstFailure: d.firstFailure,
      startedAt: d.startedAt,
    }));
}

/** A run's counters and state, as rule 6 reads them. */
export interface RunCounters {
  status: RunStatus | string;
  tasksTotal: number;
  tasksFinished: number;
  failureStatus: RunStatus | string | null;
}

/** The status a run ends with now, or null while it goes on (rule 6). */
export function runEndStatus(run: RunCounters): RunStatus | null {
  if (run.status !== 'pending' && run.status !== 'running') return null;
  if (run.tasksFinished < run.tasksTotal) return null;
  return (run.failureStatus ?? 'success') as RunStatus;
}

/** A finished run's duration: from its start (its creation when no attempt ever started) to its end. */
export function runDurationMs(startedAt: number | null, createdAt: number, finishedAt: number): number {
  return Math.max(0, finishedAt - (startedAt ?? createdAt));
}

/** Groups items by key, keeping first-seen order. */
export function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
