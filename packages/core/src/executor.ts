import type { ResolvedStep } from './definition.js';
import type { Json, LogType, Run, Task, ToolExecution, Workflow } from './models.js';
import type { ReadOnlyStore } from './read-only-store.js';

/**
 * An Executor runs one task attempt. Baton calls `execute` with a context and
 * records what it returns as the task's output; what it throws fails the
 * attempt (retried by the step's policy). Executors must stop promptly when
 * `ctx.signal` aborts (timeout, cancellation, shutdown).
 */
export interface Executor {
  /** The name steps use to pick it: 'function', 'process', 'http', 'cloud-run', 'llm', or your own. */
  readonly name: string;
  execute(ctx: TaskContext): Promise<Json | void>;
  /**
   * Checks a step's `config` when a workflow is defined; throw an Error naming
   * the bad field and Baton reports it as a DefinitionError.
   */
  validateConfig?(config: { [key: string]: Json }, step: ResolvedStep): void;
  /**
   * When true the executor calls `ctx.started(executionName)` itself once the
   * work really started elsewhere (a child process spawned, a cloud job
   * running); otherwise Baton marks the task running as it calls `execute`.
   */
  readonly reportsStart?: boolean;
}

/** Microlight's log API: one method per log type. */
export type LogApi = { [T in LogType]: (content: unknown) => void };

export interface ToolCallOptions {
  /** Abort the tool after this long and record `timeout`. */
  timeoutMs?: number;
}

/** What a handler or executor gets for one attempt. */
export interface TaskContext extends LogApi {
  readonly task: Task;
  readonly workflow: Workflow;
  /** The step with the workflow's defaults applied (executor, timeout, retry). */
  readonly step: ResolvedStep;
  readonly run: Pick<Run, 'id' | 'inputs' | 'triggeredBy'>;
  /** The step's params merged with this task's fan-out entry. */
  readonly params: { [key: string]: Json };
  /** The run's inputs. */
  readonly inputs: { [key: string]: Json };
  readonly taskIndex: number;
  readonly taskCount: number;
  /** 1 on the first attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Aborts on timeout, run cancellation, lost lease and shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** Outputs of the steps this one depends on, each in task-index order. */
  readonly upstream: { [stepName: string]: (Json | null)[] };
  /** The store, reads only: for executors that read blocks, payloads or config (writes belong to the scheduler). */
  readonly store: ReadOnlyStore;
  /** Extends the lease now (Baton also heartbeats on its own while the task runs). */
  heartbeat(): Promise<void>;
  /** Marks the task running, with the executor's handle (a pid, an execution name). */
  started(executionName?: string): Promise<void>;
  /**
   * Calls a named tool and records a ToolExecution (arguments, output, status,
   * duration) in the store; secret config values are redacted from the record.
   */
  tool<T extends Json | void>(toolName: string, args: Json, fn: (signal: AbortSignal) => Promise<T>, options?: ToolCallOptions): Promise<T>;
  /** Reads a value from the config store (secrets included; never log them). */
  config(key: string): Promise<Json>;
}

export type { ToolExecution };
