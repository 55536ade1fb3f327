/**
 * Baton's data model.
 *
 * Glossary
 * - **Workflow**: a named, versionless definition: a DAG of steps plus defaults
 *   (retry, timeout, priority, concurrency) and optional cron schedules.
 * - **Step**: one node of a workflow's DAG. It names an executor and may fan out
 *   into several tasks (`taskCount`, or one task per entry of `paramsList`).
 * - **Run**: one execution of a workflow, created by a trigger with its inputs.
 * - **Task**: one unit of work of a run: a step's instance with its `taskIndex`.
 *   Tasks whose step depends on unfinished steps wait (`waiting`).
 * - **Lease**: the right of one worker to execute one claimed task until
 *   `leaseExpiresAt`. A lease is renewed by heartbeats; an expired lease lets
 *   another worker claim the task again. Every claim gets a fresh `leaseId`,
 *   the fencing token that a completion must present.
 * - **Attempt**: the count of times a task was claimed for execution; each
 *   claim is one attempt, retries and crash recoveries included.
 * - **Log**: a typed line a task wrote (Microlight's `ml.*` types), kept in order.
 * - **Block / Payload**: text snippets and an ordered, configured set of them
 *   that the LLM executor turns into a prompt (the LLM Orchestration seed).
 * - **ToolExecution**: the audit record of one tool call (acolib).
 * - **Session**: a registered worker or client with a heartbeat (acolib).
 * - **ConfigEntry**: a typed configuration value, possibly secret (acolib).
 *
 * Over 300 lines on purpose: types and their documentation only (no logic),
 * one file so that the whole model reads top-down with its glossary.
 */

/** Declares a string union from a const array with a runtime guard beside it. */
function oneOf<const T extends readonly string[]>(values: T) {
  const set = new Set<string>(values);
  return { values, has: (v: unknown): v is T[number] => typeof v === 'string' && set.has(v) };
}

export const RUN_STATUSES = ['pending', 'running', 'success', 'failed', 'cancelled', 'timeout'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const RunStatus = oneOf(RUN_STATUSES);
/** Run statuses after which nothing changes any more. */
export const FINISHED_RUN_STATUSES = ['success', 'failed', 'cancelled', 'timeout'] as const satisfies readonly RunStatus[];

/**
 * Task statuses. `waiting`: its step depends on steps not yet finished.
 * `pending`: due (or due at `runAt`). `dispatched`: claimed and leased, handed
 * to an executor. `running`: the executor reported it started.
 */
export const TASK_STATUSES = ['waiting', 'pending', 'dispatched', 'running', 'success', 'failed', 'cancelled', 'timeout'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TaskStatus = oneOf(TASK_STATUSES);
export const FINISHED_TASK_STATUSES = ['success', 'failed', 'cancelled', 'timeout'] as const satisfies readonly TaskStatus[];
/** A task holding a lease: claimed, not finished. */
export const LEASED_TASK_STATUSES = ['dispatched', 'running'] as const satisfies readonly TaskStatus[];

export const TRIGGERS = ['manual', 'user', 'api', 'schedule', 'webhook'] as const;
export type TriggeredBy = (typeof TRIGGERS)[number];
export const TriggeredBy = oneOf(TRIGGERS);

export const LOG_TYPES = ['log', 'json', 'markdown', 'error', 'info', 'warn', 'danger', 'success'] as const;
export type LogType = (typeof LOG_TYPES)[number];
export const LogType = oneOf(LOG_TYPES);

export const WORKFLOW_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];
export const WorkflowStatus = oneOf(WORKFLOW_STATUSES);

export const TOOL_EXECUTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'timeout'] as const;
export type ToolExecutionStatus = (typeof TOOL_EXECUTION_STATUSES)[number];
export const ToolExecutionStatus = oneOf(TOOL_EXECUTION_STATUSES);
/** A tool execution in one of these is finished, and its audit record immutable. */
export const FINISHED_TOOL_EXECUTION_STATUSES = ['completed', 'failed', 'timeout'] as const satisfies readonly ToolExecutionStatus[];

export const CONFIG_VALUE_TYPES = ['string', 'integer', 'float', 'boolean', 'json'] as const;
export type ConfigValueType = (typeof CONFIG_VALUE_TYPES)[number];
export const ConfigValueType = oneOf(CONFIG_VALUE_TYPES);

export const CONNECTION_TYPES = ['worker', 'websocket', 'http', 'grpc'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];
export const ConnectionType = oneOf(CONNECTION_TYPES);

export const MODEL_FORMATS = ['default', 'mistral', 'llama', 'chatml'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];
export const ModelFormat = oneOf(MODEL_FORMATS);

/** Any value that survives JSON.stringify → JSON.parse unchanged. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** How a failed attempt is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. @defaultValue 3 */
  maxAttempts: number;
  /** Delay before the first retry. @defaultValue 1000 */
  initialDelayMs: number;
  /** Multiplier per further retry. @defaultValue 2 */
  backoffFactor: number;
  /** Upper bound of one delay. @defaultValue 300_000 */
  maxDelayMs: number;
  /** Random spread applied to each delay, 0..1 (0.2 = ±20%). @defaultValue 0.2 */
  jitter: number;
}

/** Settings a workflow gives all its steps and a step may override. */
export interface StepSettings {
  /** Abort an attempt after this long; undefined: no limit. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Higher runs first. @defaultValue 0 */
  priority?: number;
  /**
   * A number: most tasks of this workflow (or step) running at once on one
   * scheduler process. `{ key, limit }`: most tasks holding a lease at once
   * under `key` across every process and machine on the store (cluster-wide,
   * enforced by the store's claim). See {@link LimitKey} for keys.
   */
  concurrency?: number | ConcurrencyLimit;
  /** At most `limit` claims under `key` in any `periodMs` window, across the cluster. */
  rateLimit?: RateLimit;
}

/**
 * A limit key: a fixed string, or a template evaluated when the run is planned,
 * with `{inputs.a.b}` (the run's inputs) and `{params.x}` (the task's params)
 * placeholders and an optional `|host` filter (the host of a URL):
 * `'llm:{inputs.provider}'`, `'host:{params.url|host}'`.
 */
export type LimitKey = string;

/** Cluster-wide concurrency: at most `limit` tasks leased at once under `key`. */
export interface ConcurrencyLimit {
  key: LimitKey;
  limit: number;
}

/** Cluster-wide rate: at most `limit` claims under `key` in any sliding window of `periodMs`. */
export interface RateLimit {
  key: LimitKey;
  limit: number;
  periodMs: number;
}

/** One node of a workflow's DAG. */
export interface StepDefinition extends StepSettings {
  /** Unique within the workflow; letters, digits, `-`, `_`, `.`. */
  name: string;
  /** Name of a registered executor; defaults to the workflow's `executor`. */
  executor?: string;
  /** Executor-specific settings (Ork's job name, region, project; a URL; a payload id). */
  config?: { [key: string]: Json };
  /** Params every task of the step receives. */
  params?: { [key: string]: Json };
  /** Names of steps that must all succeed before this one starts. */
  dependsOn?: string[];
  /** Fan out into this many tasks, indexes 0..n-1 (Ork's `task_count`). */
  taskCount?: number;
  /** Fan out into one task per entry, each merged over `params`. */
  paramsList?: { [key: string]: Json }[];
  /** Free-form data kept on each task (acolib's metadata). */
  metadata?: { [key: string]: Json };
  /** A working directory for the task (acolib's workspace path). */
  workspace?: string;
  /** Human title (acolib). */
  title?: string;
}

/** A cron schedule on a workflow. */
export interface ScheduleDefinition {
  /** Unique within the workflow. @defaultValue the cron expression */
  name?: string;
  /** Cron expression, 5 or 6 fields (seconds first when 6). */
  cron: string;
  /** IANA time zone. @defaultValue UTC */
  timezone?: string;
  /** Inputs of each triggered run. */
  inputs?: { [key: string]: Json };
  /**
   * What a scheduler does with fires it missed while no scheduler was running:
   * `skip` them, or run the most recent one (`run-last`). @defaultValue 'skip'
   */
  catchUp?: 'skip' | 'run-last';
}

/** What a host passes to define a workflow. */
export interface WorkflowDefinition extends StepSettings {
  name: string;
  description?: string;
  status?: WorkflowStatus;
  /** Default executor of steps that name none. */
  executor?: string;
  steps: StepDefinition[];
  schedules?: ScheduleDefinition[];
  metadata?: { [key: string]: Json };
}

export interface Workflow extends StepSettings {
  id: string;
  name: string;
  description: string | null;
  status: WorkflowStatus;
  executor: string | null;
  steps: StepDefinition[];
  schedules: ScheduleDefinition[];
  metadata: { [key: string]: Json };
  createdAt: Date;
  updatedAt: Date;
}

export interface Run {
  id: string;
  workflowId: string;
  workflowName: string;
  status: RunStatus;
  inputs: { [key: string]: Json };
  triggeredBy: TriggeredBy;
  idempotencyKey: string | null;
  error: string | null;
  tasksTotal: number;
  /** Tasks that ended, whatever their status. */
  tasksFinished: number;
  /** Tasks that ended in anything but success. */
  tasksFailed: number;
  metadata: { [key: string]: Json };
  startedAt: Date | null;
  finishedAt: Date | null;
  /** finishedAt − (startedAt ?? createdAt), once finished. */
  durationMs: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Task {
  id: string;
  runId: string;
  workflowId: string;
  stepName: string;
  taskIndex: number;
  taskCount: number;
  status: TaskStatus;
  params: { [key: string]: Json };
  output: Json | null;
  error: string | null;
  /** The executor's handle: a pid, a Cloud Run execution name. */
  executionName: string | null;
  priority: number;
  /** When the task is due. */
  runAt: Date;
  attempt: number;
  maxAttempts: number;
  leaseId: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  metadata: { [key: string]: Json };
  workspace: string | null;
  /** The cluster-wide concurrency limit this task counts against, its key evaluated when planned; null: none. */
  concurrencyLimit: ConcurrencyLimit | null;
  /** The rate limit this task's claims count against, its key evaluated when planned; null: none. */
  rateLimit: RateLimit | null;
  dispatchedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Log {
  /** Position in the store's global order; later logs have larger ids. */
  id: number;
  runId: string;
  taskId: string | null;
  type: LogType;
  content: string;
  createdAt: Date;
}

export interface Block {
  id: string;
  title: string;
  content: string;
  tags: string[];
  /** Virtual folder such as "Phase 1/Instructions". */
  folderPath: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A block of a payload, by id or by tag (every block with the tag, by title). */
export type BlockRef = { blockId: string } | { tag: string };

export interface Payload {
  id: string;
  name: string;
  blocks: BlockRef[];
  temperature: number;
  /** Maximum response length in tokens. */
  responseLength: number;
  llmPort: number;
  modelFormat: ModelFormat;
  createdAt: Date;
  updatedAt: Date;
}

export interface ToolExecution {
  id: string;
  taskId: string | null;
  runId: string | null;
  toolName: string;
  arguments: Json;
  output: Json | null;
  status: ToolExecutionStatus;
  error: string | null;
  durationMs: number | null;
  createdAt: Date;
  completedAt: Date | null;
}

export interface Session {
  id: string;
  clientId: string;
  userId: string | null;
  connectionType: ConnectionType;
  isActive: boolean;
  metadata: { [key: string]: Json };
  lastHeartbeat: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** Why tasks wait: the state of one limit key (`Store.listLimits`). */
export interface LimitState {
  kind: 'concurrency' | 'rate';
  key: string;
  /** The largest limit among the key's tasks (tasks of one key should share one limit; each is checked against its own). */
  limit: number;
  /** Rate limits: the window length. */
  periodMs: number | null;
  /** Concurrency: tasks holding an unexpired lease under the key. Rate: claims in the current window. */
  used: number;
  /** Due pending tasks under the key: they wait while `used >= limit`. */
  waiting: number;
}

export interface ConfigEntry {
  key: string;
  value: Json;
  valueType: ConfigValueType;
  description: string | null;
  isSecret: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** The retry policy used where a workflow and its step say nothing. */
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 1000,
  backoffFactor: 2,
  maxDelayMs: 300_000,
  jitter: 0.2,
});
