import type { ResolvedStep } from '../definition.js';
import { TimeoutError } from '../errors.js';
import type { TaskContext, ToolCallOptions } from '../executor.js';
import type { Json, LogType } from '../models.js';
import type { ReadOnlyStore } from '../read-only-store.js';
import type { ClaimedTask, NewLog, Store } from '../store.js';
import type { AbortSwitch } from './abort.js';
import type { Redactor } from './redactor.js';

/** The pieces of the scheduler a task context talks to. */
export interface ContextDeps {
  store: Store;
  /** What the handler sees as `ctx.store`: the same store, reads only. */
  reader: ReadOnlyStore;
  redactor: Redactor;
  log: (entry: NewLog) => void;
  heartbeat: () => Promise<void>;
  started: (executionName?: string) => Promise<void>;
}

/** Turns what a task passes to `ctx.log(...)` and friends into stored text. */
function logContent(type: LogType, content: unknown): string {
  if (typeof content === 'string') return content;
  if (content instanceof Error) return content.stack ?? `${content.name}: ${content.message}`;
  if (type === 'json' || (typeof content === 'object' && content !== null)) {
    try {
      return JSON.stringify(content, null, 2) ?? String(content);
    } catch {
      return String(content);
    }
  }
  return String(content);
}

/** One per attempt; methods live on the prototype so a context costs one small object. */
class BatonTaskContext implements TaskContext {
  readonly task: TaskContext['task'];
  readonly workflow: TaskContext['workflow'];
  readonly run: TaskContext['run'];
  readonly params: TaskContext['params'];
  readonly inputs: TaskContext['inputs'];
  readonly taskIndex: number;
  readonly taskCount: number;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly store: ReadOnlyStore;
  readonly #deps: ContextDeps;
  readonly #abort: AbortSwitch;

  constructor(
    claimed: ClaimedTask,
    readonly step: ResolvedStep,
    abort: AbortSwitch,
    readonly upstream: { [stepName: string]: (Json | null)[] },
    deps: ContextDeps,
  ) {
    const { task, workflow, run } = claimed;
    this.task = task;
    this.workflow = workflow;
    this.run = run;
    this.params = task.params;
    this.inputs = run.inputs;
    this.taskIndex = task.taskIndex;
    this.taskCount = task.taskCount;
    this.attempt = task.attempt;
    this.maxAttempts = task.maxAttempts;
    this.store = deps.reader;
    this.#deps = deps;
    this.#abort = abort;
  }

  /** Made on first read (see AbortSwitch): most handlers never look. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  #write(type: LogType, content: unknown): void {
    this.#deps.log({ runId: this.run.id, taskId: this.task.id, type, content: this.#deps.redactor.text(logContent(type, content)) });
  }

  log(content: unknown) {
    this.#write('log', content);
  }
  json(content: unknown) {
    this.#write('json', content);
  }
  markdown(content: unknown) {
    this.#write('markdown', content);
  }
  error(content: unknown) {
    this.#write('error', content);
  }
  info(content: unknown) {
    this.#write('info', content);
  }
  warn(content: unknown) {
    this.#write('warn', content);
  }
  danger(content: unknown) {
    this.#write('danger', content);
  }
  success(content: unknown) {
    this.#write('success', content);
  }

  heartbeat(): Promise<void> {
    return this.#deps.heartbeat();
  }

  started(executionName?: string): Promise<void> {
    return this.#deps.started(executionName);
  }

  async config(key: string): Promise<Json> {
    const entry = await this.#deps.store.getConfig(key);
    if (entry.isSecret) this.#deps.redactor.add(entry.value);
    return entry.value;
  }

  tool<T extends Json | void>(
    toolName: string,
    args: Json,
    fn: (signal: AbortSignal) => Promise<T>,
    options?: ToolCallOptions,
  ): Promise<T> {
    return callTool(this.#deps, this.task.id, this.run.id, this.signal, toolName, args, fn, options);
  }
}

export function createTaskContext(
  claimed: ClaimedTask,
  step: ResolvedStep,
  abort: AbortSwitch,
  upstream: { [stepName: string]: (Json | null)[] },
  deps: ContextDeps,
): TaskContext {
  return new BatonTaskContext(claimed, step, abort, upstream, deps);
}

/** acolib's audited tool call: a ToolExecution row records every call, secrets redacted. */
async function callTool<T extends Json | void>(
  deps: ContextDeps,
  taskId: string,
  runId: string,
  taskSignal: AbortSignal,
  toolName: string,
  args: Json,
  fn: (signal: AbortSignal) => Promise<T>,
  options: ToolCallOptions = {},
): Promise<T> {
  const record = await deps.store.recordToolExecution({ taskId, runId, toolName, arguments: deps.redactor.json(args) });
  const started = performance.now();
  const signals = [taskSignal];
  if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs));
  const signal = AbortSignal.any(signals);
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () =>
      reject(
        signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError'
          ? new TimeoutError(options.timeoutMs!)
          : signal.reason,
      );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    const output = await Promise.race([fn(signal), aborted]);
    await deps.store.finishToolExecution(record.id, {
      status: 'completed',
      output: output === undefined ? null : deps.redactor.json(output as Json),
      durationMs: Math.round(performance.now() - started),
    });
    return output;
  } catch (error) {
    const timedOut = error instanceof TimeoutError;
    await deps.store.finishToolExecution(record.id, {
      status: timedOut ? 'timeout' : 'failed',
      error: deps.redactor.text(error instanceof Error ? error.message : String(error)),
      durationMs: Math.round(performance.now() - started),
    });
    throw error;
  }
}
