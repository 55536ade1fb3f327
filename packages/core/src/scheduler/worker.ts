import { resolveStep, type ResolvedStep } from '../definition.js';
import { CancelledError, ShutdownError } from '../errors.js';
import type { Executor } from '../executor.js';
import type { ClaimedTask, Store } from '../store.js';
import { AbortSwitch } from './abort.js';
import { Admission } from './admission.js';
import { Attempts, type Attempt } from './attempt.js';
import { ClaimLoop } from './claim-loop.js';
import type { BatonEmitter } from './events.js';
import { Leases } from './leases.js';
import type { Redactor } from './redactor.js';

export interface WorkerOptions {
  store: Store;
  workerId: string;
  executors: Map<string, Executor>;
  defaultExecutor: string;
  concurrency: number;
  leaseMs: number;
  heartbeatMs: number;
  pollIntervalMs: number;
  recoverIntervalMs: number;
  /** After an abort, how long to wait for the executor to wind down before recording the end. */
  abortGraceMs: number;
  /** Claim only these workflows (ids), when given. */
  workflowIds?: () => string[] | undefined;
  emitter: BatonEmitter;
  /** Emits 'error' only when the host listens: an unheard 'error' event would crash the process. */
  emitError: (error: unknown) => void;
  redactor: Redactor;
  log: (level: 'warn' | 'error', message: string, error?: unknown) => void;
}

interface InFlight extends Attempt {
  /** Settles once the attempt's end is written (or given up) and its lease no longer held here. */
  done: Promise<void>;
}

/**
 * One process's worker, in four parts: the claim loop (what to claim, when),
 * admission (how many, per workflow and step), attempts (running a task and
 * writing its end) and leases (heartbeat, release, recovery). The worker
 * starts each admitted task and frees its slot when the executor returns.
 */
export class Worker {
  readonly #admission: Admission;
  readonly #attempts: Attempts;
  readonly #loop: ClaimLoop;
  readonly #leases: Leases<InFlight>;
  readonly #abortGraceMs: number;
  readonly #log: WorkerOptions['log'];

  constructor(o: WorkerOptions) {
    this.#abortGraceMs = o.abortGraceMs;
    this.#log = o.log;
    const wake = () => this.wake();
    this.#admission = new Admission(o.concurrency);
    this.#leases = new Leases<InFlight>({ ...o, wake });
    const held = this.#leases.held;
    this.#attempts = new Attempts({
      ...o,
      wake,
      heartbeat: (attempt) => this.#leases.heartbeat([attempt]),
      release: (leases, failure) => this.#leases.release(leases, failure),
      executed: (attempt) => this.#executed(attempt),
      claimOf: (taskId) => held.get(taskId)?.claimed,
    });
    this.#loop = new ClaimLoop({
      ...o,
      free: () => this.#admission.free(held.size),
      busy: () => held.size > 0,
      saturatedWorkflows: () => this.#admission.saturatedWorkflows(),
      start: (claimed) => this.#start(claimed),
      runStarted: ({ run, workflow }) => o.emitter.emit('run:started', { runId: run.id, workflowName: workflow.name }),
      release: (leases) => this.#leases.release(leases, 'release failed'),
    });
  }

  start(): void {
    this.#loop.start();
    this.#leases.start();
  }

  /** Wakes the claim loop now (a trigger, a dependent made ready, a NOTIFY). */
  wake(): void {
    this.#loop.wake();
  }

  /** Aborts tasks of a run on this worker (the run was cancelled). */
  abortRun(runId: string, reason: string): void {
    for (const a of this.#leases.held.values()) if (a.claimed.run.id === runId) a.abort.abort(new CancelledError(reason));
  }

  get inFlight(): number {
    return this.#leases.held.size;
  }

  /**
   * Stops claiming, waits up to `graceMs` for tasks in flight, then aborts the
   * rest and gives their leases back so no other worker waits for expiry.
   */
  async stop(graceMs: number): Promise<void> {
    await this.#loop.stop();
    const held = () => [...this.#leases.held.values()];
    const all = () => Promise.all(held().map((a) => a.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const a of held()) a.abort.abort(new ShutdownError());
    await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, this.#abortGraceMs + 100)))]);
    clearTimeout(timer);
    const stuck = held().map((a) => a.lease);
    this.#leases.stop();
    await this.#attempts.flush();
    await this.#leases.release(stuck, 'releasing leases on stop failed', 'error');
  }

  /** Starts a claimed task if admission lets it in; false (nothing started) when not. */
  #start(claimed: ClaimedTask): boolean {
    const step = stepOf(claimed);
    if (!this.#admission.admit(claimed, step)) return false;
    const lease = { taskId: claimed.task.id, leaseId: claimed.task.leaseId! };
    const attempt = { claimed, lease, step, abort: new AbortSwitch(), executing: true } as InFlight;
    this.#leases.held.set(claimed.task.id, attempt);
    // The slot is held while the executor runs, not while the end is written:
    // the next batch starts while this one's endings wait for their batched write.
    attempt.done = this.#attempts.run(attempt).then(
      () => this.#settle(attempt),
      (error) => {
        this.#log('error', `task ${claimed.task.id} crashed the worker loop`, error);
        this.#settle(attempt);
      },
    );
    return true;
  }

  /** The executor returned (or threw): its slot is free while the end is written. */
  #executed(attempt: Attempt): void {
    if (!attempt.executing) return;
    attempt.executing = false;
    this.#admission.executed(attempt.claimed);
    this.wake();
  }

  #settle(attempt: Attempt): void {
    this.#executed(attempt);
    this.#leases.held.delete(attempt.claimed.task.id);
    // The claim loop may be waiting for endings to be written, not for slots.
    this.wake();
  }
}

/**
 * Each step resolved once per workflow object, not once per task: a claim
 * decodes each workflow once per batch and its tasks share it. Resolving
 * (defaults merged into a new retry policy) took 26 ms of a 20,000-task
 * SQLite fan-out's CPU profile (~1.3 µs a task).
 */
const resolvedSteps = new WeakMap<ClaimedTask['workflow'], Map<string, ResolvedStep>>();
function stepOf({ workflow, task }: ClaimedTask): ResolvedStep {
  let steps = resolvedSteps.get(workflow);
  if (!steps) resolvedSteps.set(workflow, (steps = new Map()));
  let step = steps.get(task.stepName);
  if (!step) steps.set(task.stepName, (step = resolveStep(workflow, task.stepName)));
  return step;
}
