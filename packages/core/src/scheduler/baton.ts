import { hostname } from 'node:os';
import { validateDefinition } from '../definition.js';
import { BatonError, NotFoundError, ValidationError } from '../errors.js';
import type { Executor } from '../executor.js';
import { newId } from '../plan.js';
import { FINISHED_RUN_STATUSES, type Run, type Workflow, type WorkflowDefinition } from '../models.js';
import type { NewRun, Store } from '../store.js';
import { DEFAULT_CANCEL_REASON } from '../run-rules.js';
import { MAX_RUNS_PER_CALL, parse } from '../validation.js';
import { unguarded } from '../guard.js';
import { z } from 'zod';
import { BatonEmitter, type BatonEvents } from './events.js';
import { FUNCTION_EXECUTOR, FunctionExecutor, type TaskHandler } from './function-executor.js';
import { Redactor } from './redactor.js';
import { Schedules } from './schedules.js';
import { Worker } from './worker.js';
import { executorSchema, optionsSchema, parseTriggerItem, triggerSchema, type BatonOptions, type TriggerOptions } from './baton-options.js';
import { checkSteps } from './step-checks.js';

export type { BatonOptions, TriggerOptions } from './baton-options.js';

/** Built once: constructing a zod schema costs more than using it (trigger is called per run). */
const workflowNameSchema = z.string().min(1, 'must not be empty');

/** What `define` clears when a new definition leaves it out (schedules and metadata are kept, as before). */
const CLEARED_DEFINITION = {
  description: null,
  executor: null,
  timeoutMs: null,
  retry: null,
  priority: null,
  concurrency: null,
  rateLimit: null,
} as const;

/**
 * Baton embedded in a host application: define workflows, trigger runs, and
 * (after `start()`) execute their tasks in this process.
 *
 * @example
 * const baton = createBaton({ store: await openSqliteStore() });
 * await baton.defineWorkflow({ name: 'hello', steps: [{ name: 'greet' }] }, {
 *   greet: async (ctx) => { ctx.info(`hello ${ctx.inputs.name}`); return 'done'; },
 * });
 * await baton.start();
 * const run = await baton.trigger('hello', { inputs: { name: 'Ada' } });
 * await baton.waitForRun(run.id); // status 'success'
 * await baton.stop();
 *
 * Just over 300 lines: the class is the user API (each method short, most of
 * the file is its documentation); option parsing and step checks live apart
 * (baton-options.ts, step-checks.ts).
 */
export class Baton {
  readonly store: Store;
  readonly workerId: string;
  readonly #emitter = new BatonEmitter();
  readonly #executors = new Map<string, Executor>();
  readonly #functions = new FunctionExecutor();
  readonly #defined = new Map<string, Workflow>();
  readonly #redactor = new Redactor();
  readonly #worker: Worker;
  readonly #schedules: Schedules;
  readonly #options: Required<Pick<BatonOptions, 'leaseMs' | 'heartbeatMs' | 'shutdownGraceMs'>> & BatonOptions;
  #started = false;
  #sessionTimer: NodeJS.Timeout | undefined;
  #sessionBeat: Promise<unknown> | null = null;
  #unsubscribe: (() => void) | undefined;

  constructor(options: BatonOptions) {
    parse(z.object({}, { error: 'must be an options object with a store' }).passthrough(), options, 'Baton options');
    parse(optionsSchema, options, 'Baton options');
    const leaseMs = options.leaseMs ?? 30_000;
    this.#options = {
      ...options,
      leaseMs,
      heartbeatMs: options.heartbeatMs ?? Math.max(10, Math.floor(leaseMs / 3)),
      shutdownGraceMs: options.shutdownGraceMs ?? 10_000,
    };
    if (this.#options.heartbeatMs >= leaseMs) {
      throw new ValidationError('Baton options', [{ path: 'heartbeatMs', message: `must be shorter than leaseMs (${leaseMs})` }]);
    }
    this.store = options.store;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${newId().slice(-8)}`;
    this.#executors.set(FUNCTION_EXECUTOR, this.#functions);
    for (const executor of options.executors ?? []) this.registerExecutor(executor);
    const log = (level: 'warn' | 'error', message: string, error?: unknown) => {
      const text = this.#redactor.text(error ? `${message}: ${error instanceof Error ? error.message : String(error)}` : message);
      (options.logger ?? console)[level](`[baton ${this.workerId}] ${text}`);
    };
    this.#worker = new Worker({
      store: this.store,
      workerId: this.workerId,
      executors: this.#executors,
      defaultExecutor: FUNCTION_EXECUTOR,
      concurrency: options.concurrency ?? 10,
      leaseMs,
      heartbeatMs: this.#options.heartbeatMs,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      recoverIntervalMs: options.recoverIntervalMs ?? Math.min(Math.floor(leaseMs / 2), 5000),
      abortGraceMs: options.abortGraceMs ?? 6000,
      ...(options.onlyDefinedWorkflows && { workflowIds: () => [...this.#defined.values()].map((w) => w.id) }),
      emitter: this.#emitter,
      emitError: (error) => this.#emitError(error),
      redactor: this.#redactor,
      log,
    });
    this.#schedules = new Schedules(
      this.store,
      this.#emitter,
      () => this.#worker.wake(),
      log,
      (e) => this.#emitError(e),
    );
  }

  /** Adds an executor; a later one with the same name replaces the earlier. */
  registerExecutor(executor: Executor): this {
    parse(executorSchema, executor, 'executor');
    if (executor.name === FUNCTION_EXECUTOR && executor !== this.#functions) {
      throw new ValidationError('executor', [{ path: 'name', message: `"${FUNCTION_EXECUTOR}" is built in; pick another name` }]);
    }
    this.#executors.set(executor.name, executor);
    return this;
  }

  /**
   * Creates or updates a workflow by name and registers its step handlers in
   * this process. Rejected with a DefinitionError naming the step when the DAG
   * has a cycle or a missing dependency, a step names an unknown executor, a
   * function step has no handler, or a cron expression is invalid. A stored
   * workflow keeps its status unless the definition gives one.
   */
  async defineWorkflow(definition: WorkflowDefinition, handlers: { [stepName: string]: TaskHandler } = {}): Promise<Workflow> {
    const def = validateDefinition(definition);
    checkSteps(def, handlers, this.#executors, this.#functions);
    for (const [stepName, handler] of Object.entries(handlers)) {
      const step = def.steps.find((s) => s.name === stepName)!;
      this.#functions.register(this.#functions.keyOf(def.name, stepName, step.config), handler);
    }
    const existing = await this.store.findWorkflow(def.name);
    const workflow = existing
      ? // A new definition replaces the old one whole: what it leaves out is cleared (null, by the patch rule); its status stays.
        await this.store.updateWorkflow(existing.id, { ...CLEARED_DEFINITION, ...def })
      : await this.store.createWorkflow(def);
    this.#defined.set(workflow.name, workflow);
    if (this.#started && this.#options.schedules !== false) this.#schedules.start([...this.#defined.values()]);
    return workflow;
  }

  /** Creates a run of the named workflow with all its tasks, in one transaction. */
  async trigger(workflowName: string, options: TriggerOptions = {}): Promise<Run> {
    parse(workflowNameSchema, workflowName, 'workflow name');
    parse(triggerSchema, options, 'trigger options');
    const workflow = await this.#workflow(workflowName);
    // Checked above by the guard's own schema, as in triggerMany: not parsed twice.
    const { run, created } = await unguarded(this.store).createRun(newRun(workflow.id, options));
    if (created) {
      this.#emitter.emit('run:created', run);
      this.#worker.wake();
    }
    return run;
  }

  /**
   * Creates one run of the named workflow per item, in one transaction with
   * multi-row inserts, and wakes the worker once. Each item has its own inputs,
   * idempotency key, priority and `runAt`. All or nothing: a
   * bad item fails the call with a ValidationError naming `items.<index>`, and
   * no run is created. Answers the runs in item order (a repeated idempotency
   * key answers the first run).
   */
  async triggerMany(workflowName: string, items: TriggerOptions[]): Promise<Run[]> {
    if (!Array.isArray(items)) throw new ValidationError('trigger items', [{ path: 'items', message: 'must be an array' }]);
    if (items.length > MAX_RUNS_PER_CALL)
      throw new ValidationError('trigger items', [{ path: 'items', message: `at most ${MAX_RUNS_PER_CALL} runs per call` }]);
    const workflow = await this.#workflow(workflowName);
    const inputs = items.map((item, i) => {
      parseTriggerItem(item, i);
      return newRun(workflow.id, item);
    });
    let answers: Awaited<ReturnType<Store['createRuns']>>;
    try {
      // Checked above by the guard's own schema (triggerSchema is newRun's fields): not parsed twice.
      answers = await unguarded(this.store).createRuns(inputs);
    } catch (error) {
      // The store's validation names the index ("3.inputs"); say which call it was.
      if (error instanceof ValidationError) throw error.under('items', 'trigger items');
      throw error;
    }
    let created = 0;
    for (const answer of answers) {
      if (!answer.created) continue;
      created++;
      this.#emitter.emit('run:created', answer.run);
    }
    if (created > 0) this.#worker.wake();
    return answers.map((a) => a.run);
  }

  /** Cancels a run: waiting and pending tasks end `cancelled`; running ones see their signal abort. */
  async cancelRun(runId: string, reason = DEFAULT_CANCEL_REASON): Promise<Run> {
    const run = await this.store.cancelRun(runId, reason);
    this.#worker.abortRun(runId, reason);
    this.#emitter.emit('run:finished', { runId, status: run.status, workflowName: run.workflowName });
    return run;
  }

  /**
   * Retries a finished run that failed, timed out or was cancelled: its failed,
   * timed-out and cancelled tasks run again with fresh attempts (those whose
   * upstream steps have not all succeeded wait for them), and the run rolls up
   * anew. Refused with a RetryRefusedError for a run that is not finished,
   * succeeded, or has nothing to retry.
   */
  async retry(runId: string): Promise<Run> {
    const run = await this.store.retryRun(runId);
    this.#emitter.emit('run:retried', run);
    this.#worker.wake();
    return run;
  }

  /** Paused workflows keep their pending tasks until resumed; their schedules skip fires. */
  async pauseWorkflow(name: string): Promise<Workflow> {
    return this.#setStatus(name, 'paused');
  }

  async resumeWorkflow(name: string): Promise<Workflow> {
    const workflow = await this.#setStatus(name, 'active');
    this.#worker.wake();
    return workflow;
  }

  /** Archived workflows cannot be triggered. */
  async archiveWorkflow(name: string): Promise<Workflow> {
    return this.#setStatus(name, 'archived');
  }

  /** Resolves with the run once it finished; rejects after `timeoutMs`. */
  async waitForRun(runId: string, { timeoutMs = 60_000, pollMs = 50 }: { timeoutMs?: number; pollMs?: number } = {}): Promise<Run> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.store.getRun(runId);
      if ((FINISHED_RUN_STATUSES as readonly string[]).includes(run.status)) return run;
      if (Date.now() > deadline)
        throw new BatonError('TIMEOUT', `run ${runId} did not finish within ${timeoutMs} ms (status ${run.status})`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Registers this worker's session and starts claiming, heartbeating and the schedules. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#redactor.load(this.store);
    await this.store.registerSession({
      id: this.workerId,
      clientId: this.workerId,
      connectionType: 'worker',
      metadata: { pid: process.pid, hostname: hostname(), concurrency: this.#options.concurrency ?? 10 },
    });
    this.#sessionTimer = setInterval(() => {
      // One beat at a time: a store slower than heartbeatMs (a hung database, the file store's
      // lock at a 10 ms beat) would otherwise queue a heartbeat and an expiry every tick without end.
      if (this.#sessionBeat) return;
      this.#sessionBeat = Promise.all([
        this.store.heartbeatSession(this.workerId).catch((e) => this.#emitError(e)),
        // Only dead workers' sessions: a host's websocket or http sessions keep their own time.
        this.store.expireSessions(new Date(Date.now() - 3 * this.#options.leaseMs), { connectionType: 'worker' }).catch(() => {}),
      ]).finally(() => (this.#sessionBeat = null));
    }, this.#options.heartbeatMs);
    this.#unsubscribe = this.store.onTasksReady?.(() => this.#worker.wake());
    this.#worker.start();
    if (this.#options.schedules !== false) this.#schedules.start([...this.#defined.values()]);
  }

  /**
   * Stops claiming, lets tasks in flight finish for up to `shutdownGraceMs`,
   * aborts the rest and releases their leases, and ends the session. The store
   * stays open: closing it is the host's call.
   */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#schedules.stop();
    this.#unsubscribe?.();
    clearInterval(this.#sessionTimer);
    await this.#worker.stop(this.#options.shutdownGraceMs);
    await this.#sessionBeat; // a beat landing after endSession would mark the session active again
    await this.store.endSession(this.workerId).catch(() => {});
  }

  on<E extends keyof BatonEvents>(event: E, listener: (...args: BatonEvents[E]) => void): this {
    this.#emitter.on(event, listener as never);
    return this;
  }

  off<E extends keyof BatonEvents>(event: E, listener: (...args: BatonEvents[E]) => void): this {
    this.#emitter.off(event, listener as never);
    return this;
  }

  once<E extends keyof BatonEvents>(event: E, listener: (...args: BatonEvents[E]) => void): this {
    this.#emitter.once(event, listener as never);
    return this;
  }

  /** Tasks executing in this process now. */
  get inFlight(): number {
    return this.#worker.inFlight;
  }

  #emitError(error: unknown): void {
    if (this.#emitter.listenerCount('error') > 0) this.#emitter.emit('error', error instanceof Error ? error : new Error(String(error)));
  }

  async #workflow(name: string): Promise<Workflow> {
    const workflow = await this.store.findWorkflow(name);
    if (!workflow) throw new NotFoundError('workflow', name);
    return workflow;
  }

  async #setStatus(name: string, status: Workflow['status']): Promise<Workflow> {
    const workflow = await this.store.updateWorkflow((await this.#workflow(name)).id, { status });
    if (this.#defined.has(name)) this.#defined.set(name, workflow);
    return workflow;
  }
}

export function createBaton(options: BatonOptions): Baton {
  return new Baton(options);
}

function newRun(workflowId: string, options: TriggerOptions): NewRun {
  return {
    workflowId,
    triggeredBy: options.triggeredBy ?? 'api',
    ...(options.inputs !== undefined && { inputs: options.inputs }),
    ...(options.idempotencyKey !== undefined && { idempotencyKey: options.idempotencyKey }),
    ...(options.metadata !== undefined && { metadata: options.metadata }),
    ...(options.runAt !== undefined && { runAt: options.runAt }),
    ...(options.priority !== undefined && { priority: options.priority }),
  };
}
