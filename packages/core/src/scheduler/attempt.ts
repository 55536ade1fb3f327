import { retryDelayMs, type ResolvedStep } from '../definition.js';
import { CancelledError, LeaseLostError, ShutdownError, TimeoutError } from '../errors.js';
import type { Executor } from '../executor.js';
import type { Json, Task } from '../models.js';
import { readOnlyView, type ReadOnlyStore } from '../read-only-store.js';
import type { ClaimedTask, FinishOutcome, FinishResult, Lease, MarkOutcome, NewLog, RunningMark, Store, TaskResult } from '../store.js';
import { unguarded } from '../guard.js';
import { isJson } from '../validation.js';
import type { AbortSwitch } from './abort.js';
import { Batcher } from './batcher.js';
import { RunStarts } from './run-starts.js';
import type { BatonEmitter } from './events.js';
import type { Redactor } from './redactor.js';
import { createTaskContext } from './task-context.js';

/** One attempt of a claimed task, from its start here until its end is written. */
export interface Attempt {
  claimed: ClaimedTask;
  lease: Lease;
  step: ResolvedStep;
  abort: AbortSwitch;
  /** True while the executor runs; false once only the end is being written. */
  executing: boolean;
}

export interface AttemptsOptions {
  store: Store;
  workerId: string;
  /** The worker's concurrency: the endings' write takes up to this many at once. */
  concurrency: number;
  executors: Map<string, Executor>;
  defaultExecutor: string;
  /** After an abort, how long to wait for the executor to wind down before recording the end. */
  abortGraceMs: number;
  emitter: BatonEmitter;
  redactor: Redactor;
  log: (level: 'warn' | 'error', message: string, error?: unknown) => void;
  /** Renews this attempt's lease (`ctx.heartbeat()`). */
  heartbeat: (attempt: Attempt) => Promise<void>;
  /** Gives leases back; a failure is logged as `failure`. */
  release: (leases: Lease[], failure: string) => Promise<void>;
  /** The executor returned or threw: its slot is free while the end is written. */
  executed: (attempt: Attempt) => void;
  /** Wakes the claim loop: tasks were made ready, a keyed slot freed, a retry is due. */
  wake: () => void;
  /** The claim of a task whose end is being written (its run's id and workflow, for `run:started`). */
  claimOf: (taskId: string) => ClaimedTask | undefined;
}

interface Ended {
  result: TaskResult;
  /** The task's "running" mark, if one was queued, and its write (which never rejects). */
  markItem: RunningMark | undefined;
  marked: Promise<unknown> | undefined;
  /** Whether the attempt wrote logs: they must be written before its end. */
  logged: boolean;
}

const MAX_ERROR_LENGTH = 16_000;
/**
 * How long a task runs before its pending run is marked started (RunStarts).
 * A task that ends sooner has its run started by the write that ends it: one
 * write of the run instead of two (PostgreSQL single-task runs: 2,390 → 1,789
 * WAL bytes and 55.8–62.9 → 44.5–52.2 µs of the machine's CPU outside Node a
 * run in seven paired runs, bench/HISTORY.md).
 * Meanwhile the run reads `pending`.
 */
const RUN_START_DELAY_MS = 10;

/**
 * Runs attempts through their executors (timeout, abort, the failure turned
 * into a result with its text redacted) and writes what they produce in
 * batches: "running" marks, logs, endings.
 */
export class Attempts {
  readonly #o: AttemptsOptions;
  /** `ctx.store` for every attempt: built once, the view costs ~20 bound functions. */
  readonly #reader: ReadOnlyStore;
  readonly #finish: Batcher<TaskResult, FinishOutcome>;
  readonly #markRunning: Batcher<RunningMark, MarkOutcome>;
  /** Marks that only start runs the claim left pending (ClaimOptions.deferRunStart). */
  readonly #runStarts: RunStarts;
  /** Endings and running marks are the scheduler's own arguments: written past the guard's zod parse (see unguarded). */
  readonly #writer: Store;
  readonly #logs: Batcher<NewLog, void>;
  /** Tasks in flight under a cluster-wide concurrency key: writing their end frees a slot in the store. */
  readonly #keyed = new Set<string>();

  constructor(options: AttemptsOptions) {
    this.#o = options;
    this.#reader = readOnlyView(options.store);
    this.#writer = unguarded(options.store);
    // Endings are written up to `concurrency` at a time (at least 100, at most 1,000): a batch's
    // cost is mostly per row, but each write also costs a round trip, a plan and a commit.
    // 20,000 no-op tasks on PostgreSQL at concurrency 500: 12,400 tasks/s in writes of 500,
    // 10,300 in writes of 100. Past 1,000 the gain is small and one write holds its row locks longer.
    this.#finish = new Batcher((results) => this.#writeResults(results), Math.min(1000, Math.max(100, options.concurrency)), 2);
    this.#markRunning = new Batcher((items) => this.#writer.markRunning(items), 200, 10);
    this.#runStarts = new RunStarts({
      write: (items) => this.#writer.markRunning(items),
      delayMs: RUN_START_DELAY_MS,
      written: ({ claimed, lease, abort }, { held, runStarted }) => {
        if (!held) abort.abort(new LeaseLostError(lease.taskId, lease.leaseId));
        if (runStarted) this.#o.emitter.emit('run:started', { runId: claimed.run.id, workflowName: claimed.workflow.name });
      },
      failed: (e) => this.#o.log('warn', 'marking runs started failed; the endings of their tasks will start them', e),
    });
    this.#logs = new Batcher<NewLog, void>(
      async (logs) => {
        await options.store.appendLogs(logs);
        return [];
      },
      500,
      20,
    );
  }

  /** Runs the attempt and writes its end; resolves once that is written (or is not this worker's to write). */
  async run(attempt: Attempt): Promise<void> {
    const { id, concurrencyLimit } = attempt.claimed.task;
    if (concurrencyLimit) this.#keyed.add(id);
    try {
      const ended = await this.#execute(attempt);
      if (ended) await this.#record(attempt, ended);
    } finally {
      // An end this worker never wrote (stop, a lost lease, a failed write) leaves no id behind.
      if (concurrencyLimit) this.#keyed.delete(id);
    }
  }

  /** Writes every ending and log queued so far. */
  async flush(): Promise<void> {
    await this.#finish.flush();
    await this.#logs.flush();
  }

  /** Runs the executor; resolves with how the attempt ended, or undefined when it is not this worker's to end. */
  async #execute(attempt: Attempt): Promise<Ended | undefined> {
    const { claimed, lease, abort, step } = attempt;
    const { task } = claimed;
    const executorName = step.executor ?? this.#o.defaultExecutor;
    const executor = this.#o.executors.get(executorName);
    let timer: NodeJS.Timeout | undefined;
    if (step.timeoutMs !== null) {
      const ms = step.timeoutMs;
      timer = setTimeout(() => abort.abort(new TimeoutError(ms)), ms);
    }
    let marked: Promise<unknown> | undefined;
    let markItem: RunningMark | undefined;
    let logged = false;
    // The attempt starts now (a claim that marked it running says when): the
    // batched mark and the ending carry this time, not their write's.
    const startedAt = task.status === 'running' && task.startedAt ? task.startedAt : new Date();
    const markRunning = (executionName?: string) => {
      markItem =
        executionName === undefined
          ? { taskId: lease.taskId, leaseId: lease.leaseId, startedAt }
          : { taskId: lease.taskId, leaseId: lease.leaseId, startedAt, executionName };
      const written = this.#markRunning.add(markItem).then(({ held, runStarted }) => {
        if (!held) abort.abort(new LeaseLostError(lease.taskId, lease.leaseId));
        // Only for a claim that did not start it (one without `running`): the store says so here instead.
        if (runStarted) this.#o.emitter.emit('run:started', { runId: claimed.run.id, workflowName: claimed.workflow.name });
      });
      // Handled here, at once: the handler may run for minutes before anyone awaits
      // `marked`, and a rejection nobody handles by then ends the process. A lost mark
      // costs nothing lasting: finishing records the start anyway.
      marked = written.catch((e) => this.#o.log('warn', `marking task ${lease.taskId} running failed; its end will record the start`, e));
      return written;
    };

    let result: TaskResult;
    try {
      if (!executor) throw new Error(`no executor named "${executorName}" is registered on worker ${this.#o.workerId}`);
      if (!executor.reportsStart && task.status !== 'running') markRunning().catch(() => {});
      // Claimed running, its run left pending: started if the task is still running a moment from now.
      else if (claimed.runPending) this.#runStarts.add(attempt);
      this.#o.emitter.emit('task:started', task);
      const upstream = step.step.dependsOn?.length ? await this.#o.store.getStepOutputs(claimed.run.id, step.step.dependsOn) : {};
      const ctx = createTaskContext(claimed, step, abort, upstream, {
        store: this.#o.store,
        reader: this.#reader,
        redactor: this.#o.redactor,
        log: (entry) => {
          logged = true;
          this.#logs.add(entry).catch((e) => this.#o.log('warn', 'writing logs failed', e));
        },
        heartbeat: () => this.#o.heartbeat(attempt),
        started: async (executionName) => {
          await markRunning(executionName);
        },
      });
      // The executor starts on a macrotask of its own, after every store write begun so far has
      // committed: a handler that blocks the event loop at its start (CPU work, sync I/O) must
      // not do so in the middle of a write transaction (SQLite: holding the database's write lock).
      await nextMacrotask();
      if (abort.aborted) throw abort.reason;
      const output = await abortable(executor.execute(ctx), abort, this.#o.abortGraceMs);
      const value = output === undefined ? null : output;
      if (!isJson(value)) throw new Error('the task returned a value that is not JSON (a function, a Date, NaN, a class instance?)');
      // Spelled out, not spread from `lease`: `{ ...lease, … }` here cost ~2.5 µs a task in
      // V8 (#execute's own time 52–56 → 7–15 ms, GC 91–98 → 66–68 ms in CPU profiles of a
      // 20,000-task SQLite fan-out), and the objects it makes are slower for every later reader.
      result = { taskId: lease.taskId, leaseId: lease.leaseId, startedAt, status: 'success', output: value as Json };
    } catch (error) {
      const reason = abort.aborted ? abort.reason : error;
      if (reason instanceof ShutdownError || reason instanceof LeaseLostError) {
        // Not this worker's to end: stop() releases it, or another worker holds it.
        // Whoever runs it next starts its run.
        clearTimeout(timer);
        this.#runStarts.drop(task.id);
        if (logged) await this.#logs.flush().catch(() => {});
        if (reason instanceof LeaseLostError) this.#o.emitter.emit('lease:lost', { task });
        else await this.#o.release([lease], `releasing task ${task.id} on stop failed; its lease will expire`);
        return;
      }
      result = this.#failure(task, step, reason, startedAt);
    } finally {
      clearTimeout(timer);
      this.#o.executed(attempt);
    }
    return { result, markItem, marked, logged };
  }

  /** Writes the end of an attempt (batched with others) and tells the host what came of it. */
  async #record(attempt: Attempt, { result, markItem, marked, logged }: Ended): Promise<void> {
    const { task } = attempt.claimed;
    const { lease } = attempt;
    // A task that ended before its "running" mark was written skips that write:
    // finishing records its start and moves its run to running anyway.
    if (markItem) this.#markRunning.withdraw(markItem, { held: true, runStarted: false });
    // Likewise a run start not yet written (the finish starts the run, FinishResult.startedRuns).
    const starting = this.#runStarts.drop(task.id);
    // Awaited only when there is something to wait for: two promises a task fewer otherwise.
    if (marked) await marked;
    if (starting) await starting;
    if (logged) await this.#logs.flush().catch((e) => this.#o.log('warn', 'writing logs failed', e));
    const outcome = await this.#finish.add(result).catch((error) => {
      this.#o.log('error', `recording the end of task ${task.id} failed; its lease will expire and it will run again`, error);
      return undefined;
    });
    if (!outcome) return;
    if (!outcome.accepted) {
      this.#o.log('warn', `task ${task.id}: the store refused a late result (lease ${lease.leaseId} was lost); nothing was written`);
      this.#o.emitter.emit('lease:lost', { task });
      return;
    }
    const error = 'error' in result ? result.error : undefined;
    if (outcome.status === 'pending' && 'retryAt' in result && result.retryAt) {
      this.#o.emitter.emit('task:retrying', { task, error: error ?? '', retryAt: result.retryAt });
      const t = setTimeout(() => this.#o.wake(), Math.max(0, result.retryAt.getTime() - Date.now()) + 5);
      t.unref();
    } else {
      this.#o.emitter.emit(
        'task:finished',
        error === undefined ? { task, status: outcome.status } : { task, status: outcome.status, error },
      );
    }
  }

  #failure(task: Task, step: ResolvedStep, reason: unknown, startedAt: Date): TaskResult {
    const taskId = task.id;
    const leaseId = task.leaseId!;
    if (reason instanceof CancelledError) return { taskId, leaseId, startedAt, status: 'cancelled', error: reason.message };
    const status = reason instanceof TimeoutError ? 'timeout' : 'failed';
    const text = this.#o.redactor.text(
      reason instanceof Error
        ? reason.stack?.includes(reason.message)
          ? reason.stack
          : `${reason.message}\n${reason.stack ?? ''}`
        : String(reason),
    );
    const error = text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
    if (task.attempt < task.maxAttempts) {
      return { taskId, leaseId, startedAt, status, error, retryAt: new Date(Date.now() + retryDelayMs(step.retry, task.attempt)) };
    }
    return { taskId, leaseId, startedAt, status, error };
  }

  async #writeResults(results: TaskResult[]): Promise<FinishOutcome[]> {
    const out: FinishResult = await this.#writer.finishTasks(results);
    if (out.startedRuns.length > 0) {
      const started = new Set(out.startedRuns);
      for (const r of results) {
        const claimed = this.#o.claimOf(r.taskId);
        if (!claimed || !started.delete(claimed.run.id)) continue;
        this.#o.emitter.emit('run:started', { runId: claimed.run.id, workflowName: claimed.workflow.name });
      }
    }
    for (const run of out.finishedRuns) this.#o.emitter.emit('run:finished', run);
    // A keyed task's slot frees when its end is written, not when it stopped running:
    // claim again now rather than at the next poll (a claim made in between found the key full).
    let freedKeySlot = false;
    for (const r of results) if (this.#keyed.delete(r.taskId)) freedKeySlot = true;
    if (out.readyTasks > 0 || freedKeySlot) this.#o.wake();
    return out.outcomes;
  }
}

/**
 * After the switch aborts, waits up to `graceMs` for the executor to wind down
 * (a process group being killed, a cloud job being cancelled), so that a retry
 * or another worker never overlaps the aborted attempt; then gives up on it.
 */
function abortable<T>(promise: Promise<T>, abort: AbortSwitch, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const stopListening = abort.onAbort(() => {
      timer = setTimeout(() => reject(abort.reason), graceMs);
    });
    const settle = () => {
      clearTimeout(timer);
      stopListening();
    };
    promise.then(
      (v) => {
        settle();
        if (abort.aborted) reject(abort.reason);
        else resolve(v);
      },
      (e) => {
        settle();
        reject(abort.aborted ? abort.reason : e);
      },
    );
  });
}

let macrotask: Promise<void> | null = null;
/**
 * One setImmediate shared by every task starting in the same turn: their callbacks would run
 * in the same check phase anyway, so the guarantee is the same, and a batch of 50 starts costs
 * one yield instead of 50 (measured: 50 yields a batch halved SQLite throughput, 16.6k → 8.7k/s).
 */
function nextMacrotask(): Promise<void> {
  return (macrotask ??= new Promise((resolve) =>
    setImmediate(() => {
      macrotask = null;
      resolve();
    }),
  ));
}
