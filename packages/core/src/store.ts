import type {
  Block,
  BlockRef,
  ConfigEntry,
  ConfigValueType,
  ConnectionType,
  Json,
  LimitState,
  Log,
  LogType,
  ModelFormat,
  Payload,
  Run,
  RunStatus,
  Session,
  Task,
  TaskStatus,
  ToolExecution,
  ToolExecutionStatus,
  TriggeredBy,
  Workflow,
  WorkflowDefinition,
  WorkflowStatus,
} from './models.js';

/**
 * The Store contract: domain operations, not SQL. Every store (SQLite,
 * PostgreSQL, JSON files) implements it and passes `runStoreConformance` from
 * `@baton/core/store-kit/conformance`.
 *
 * Inputs are validated by `guardStore` (core) before they reach an
 * implementation, so implementations may trust argument shapes; they still own
 * every rule that needs stored data (uniqueness, existence, fencing).
 *
 * Errors: unknown ids → `NotFoundError`; broken uniqueness or state rules →
 * `ConflictError`; bad shapes → `ValidationError`; after `close()` →
 * `StoreClosedError`.
 *
 * Over 300 lines on purpose: the contract is types and their documentation
 * only, already in parts a store author reads one at a time (`WorkflowStore`,
 * `RunStore`, `QueueStore`, `LogStore`, `LibraryStore`, `ConfigStore`,
 * `SessionStore`, `AuditStore`); no logic lives here.
 */

/** A page of results and the cursor of the next page (null on the last one). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageOptions {
  /** @defaultValue 50, at most 1000 */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
}

/**
 * The fields of an update, by the one patch rule of every update (core
 * `records.ts`): a field left out or `undefined` keeps its value, `null`
 * clears it back to its default, any other value replaces it. Fields without
 * a default (a name, a title, steps, status) cannot be cleared.
 */
export type Patch<T, Required extends keyof T> = { [K in Required]?: T[K] } & { [K in Exclude<keyof T, Required>]?: T[K] | null };

/** `updateWorkflow`'s patch: `{ description: null }` removes the description, `{ description: undefined }` keeps it. */
export type WorkflowPatch = Patch<WorkflowDefinition, 'name' | 'status' | 'steps'>;

export interface WorkflowStore {
  /** Stores a definition. Duplicate name → ConflictError. */
  createWorkflow(definition: WorkflowDefinition): Promise<Workflow>;
  /**
   * Changes the given fields by the patch rule (see {@link WorkflowPatch}); the result is checked as a
   * whole definition. Unknown id → NotFoundError; a name taken by another → ConflictError.
   */
  updateWorkflow(id: string, patch: WorkflowPatch): Promise<Workflow>;
  getWorkflow(id: string): Promise<Workflow>;
  /** By unique name; null when none. */
  findWorkflow(name: string): Promise<Workflow | null>;
  /** Oldest first (stable by id). */
  listWorkflows(options?: PageOptions & { status?: WorkflowStatus }): Promise<Page<Workflow>>;
}

export interface NewRun {
  workflowId: string;
  inputs?: { [key: string]: Json };
  /** @defaultValue 'manual' */
  triggeredBy?: TriggeredBy;
  /** A repeated createRun with the same workflow and key returns the first run. */
  idempotencyKey?: string;
  metadata?: { [key: string]: Json };
  /** Do not start before this time. @defaultValue now */
  runAt?: Date;
  /** Every task of this run gets this priority (higher first) instead of its step's. */
  priority?: number;
}

export interface RunQuery extends PageOptions {
  workflowId?: string;
  status?: RunStatus;
  triggeredBy?: TriggeredBy;
}

/** Runs counted by status (every status present, zero when none). */
export type RunCounts = { [S in RunStatus]: number };

export interface TaskQuery extends PageOptions {
  runId: string;
  status?: TaskStatus;
  stepName?: string;
}

export interface RunStore {
  /**
   * Creates the run and all its tasks (planned by core's `planRun`) in one
   * transaction. Tasks of steps with dependencies start `waiting`, the others
   * `pending`. Unknown workflow → NotFoundError; archived or draft workflow →
   * ConflictError. With an idempotency key already used for this workflow,
   * returns that run and `created: false`.
   */
  createRun(input: NewRun): Promise<{ run: Run; created: boolean }>;
  /**
   * Creates many runs in one transaction, with multi-row inserts (a constant
   * number of statements however many runs), each as `createRun` would: own
   * inputs, idempotency key, metadata and `runAt`. Answers in input order; an
   * idempotency key already used (before or earlier in the same call) answers
   * that run with `created: false`. All or nothing: when any item is rejected
   * (bad shape → ValidationError naming `items.<index>`, unknown workflow →
   * NotFoundError, archived or draft → ConflictError), no run is created.
   */
  createRuns(inputs: NewRun[]): Promise<{ run: Run; created: boolean }[]>;
  getRun(id: string): Promise<Run>;
  /** Newest first, stable under concurrent inserts. */
  listRuns(query?: RunQuery): Promise<Page<Run>>;
  /**
   * The runs of one workflow (or of all) counted by status. SQL stores read
   * only the `(workflow_id, status)` index: the cost grows with the
   * workflow's runs, never with other workflows'.
   */
  countRuns(query?: { workflowId?: string }): Promise<RunCounts>;
  /**
   * Cancels a run that has not finished: the run becomes `cancelled`, its
   * waiting and pending tasks `cancelled`; leased tasks keep their lease until
   * their worker learns of it (heartbeat answers `cancelled`) and finishes them,
   * which records them `cancelled`. A finished run → ConflictError.
   */
  cancelRun(id: string, reason?: string): Promise<Run>;
  /**
   * Retries a finished run, as core's `planRetry` decides: its failed,
   * timed-out and cancelled tasks go back to `pending` (or `waiting` while
   * their step's upstream steps have not all succeeded) with fresh attempts;
   * the run becomes active again with its error cleared and rolls up anew.
   * A run not finished, succeeded, or with nothing to retry → RetryRefusedError.
   */
  retryRun(id: string): Promise<Run>;
  getTask(id: string): Promise<Task>;
  /**
   * The task whose executor recorded this execution name (`markRunning`): a
   * pid, a Cloud Run execution. Names are not unique across executors; when
   * several tasks share one, the newest task (highest id) is returned. Null
   * when none.
   */
  findTaskByExecutionName(executionName: string): Promise<Task | null>;
  /** In plan order: steps as defined, then task index. */
  listTasks(query: TaskQuery): Promise<Page<Task>>;
  /** Outputs of the succeeded tasks of the given steps, each step's in task-index order. */
  getStepOutputs(runId: string, stepNames: string[]): Promise<{ [stepName: string]: (Json | null)[] }>;
}

/** Proof of a claim: the fencing token a worker presents for a task. */
export interface Lease {
  taskId: string;
  leaseId: string;
}

/** A "running" mark: the lease, when the attempt started (default: now), and what the executor started. */
export interface RunningMark extends Lease {
  executionName?: string;
  startedAt?: Date;
}

export interface ClaimOptions {
  /** The claiming worker (its session id). */
  workerId: string;
  /** Most tasks to claim. */
  limit: number;
  /** Lease length; the worker must heartbeat before it runs out. */
  leaseMs: number;
  /** Claim only tasks of these workflows. */
  workflowIds?: string[];
  /** Skip tasks of these workflows (saturated concurrency). */
  excludeWorkflowIds?: string[];
  /**
   * Lease the tasks `running` rather than `dispatched`, started now, and
   * their pending runs `running`, started now, in the same statement: for a
   * worker that starts what it claims at once (in-process handlers), this
   * folds the "running" mark into the claim. @defaultValue false
   */
  running?: boolean;
  /**
   * With `running`: lease the tasks `running`, started now, but leave their
   * runs `pending`. The worker starts a run with `markRunning` if its task is
   * still running a moment later; a task that ends first has its run started
   * by the finish (`FinishResult.startedRuns`). A single-task run whose task
   * ends quickly is then written once (pending → its end) instead of twice
   * (PostgreSQL: 2,390 → 1,789 WAL bytes a run, see bench/README.md).
   * @defaultValue false
   */
  deferRunStart?: boolean;
}

export interface ClaimedTask {
  /** The task, now `dispatched` (or `running`, see ClaimOptions.running), leased to the worker, its attempt counted. */
  task: Task;
  workflow: Workflow;
  /** The run's inputs and trigger, so that executing needs no further read. */
  run: Pick<Run, 'id' | 'inputs' | 'triggeredBy'>;
  /**
   * True when this claim moved the task's run from `pending` to `running`
   * (only a claim with `running` does), on one task of that run only: of all
   * the claims that take a run's tasks, however many workers make them,
   * exactly one answers true for it. False for a run already running, so a
   * task claimed again (a retry, a recovered or released lease) never says it.
   * The scheduler emits `run:started` from it.
   */
  runStarted: boolean;
  /**
   * True when the run was still `pending` after this claim (never on a run
   * this claim started): a worker that claimed with `deferRunStart` starts it
   * with `markRunning`. Read at the claim: another worker may start it first,
   * and `markRunning` then says `runStarted: false`.
   */
  runPending: boolean;
}

export type TaskResult = Lease & {
  /**
   * When this attempt started, as the worker saw it. Recorded as the task's
   * `startedAt` (and the run's, if it is the run's first) when no "running"
   * mark carried it; without it the store falls back to the dispatch time.
   */
  startedAt?: Date;
} & (
    | { status: 'success'; output: Json }
    /** With `retryAt`, the task goes back to `pending`, due then; without, it ends. */
    | { status: 'failed' | 'timeout'; error: string; retryAt?: Date }
    | { status: 'cancelled'; error?: string }
  );

export interface FinishOutcome {
  taskId: string;
  /** False when the lease was not held (fencing): nothing was written. */
  accepted: boolean;
  /** The task's status after the write (pending when a retry was scheduled). */
  status: TaskStatus;
}

export interface FinishedRun {
  runId: string;
  status: RunStatus;
}

export interface FinishResult {
  outcomes: FinishOutcome[];
  /** Runs that reached a finished status in this call. */
  finishedRuns: FinishedRun[];
  /**
   * Runs this call moved out of `pending` (to `running`, or straight to their
   * end): their tasks ended before anything marked them started (a claim with
   * `deferRunStart`, a mark withdrawn). The scheduler emits `run:started` for them.
   */
  startedRuns: string[];
  /** Tasks that became pending (dependents unblocked, retries) in this call. */
  readyTasks: number;
}

/** What a "running" mark wrote. */
export interface MarkOutcome {
  /** False when the lease was not held (fencing): nothing was written. */
  held: boolean;
  /**
   * True when this call moved the task's run from `pending` to `running`, on
   * one mark of that run only (as `ClaimedTask.runStarted` for claims).
   */
  runStarted: boolean;
}

export type LeaseState = 'held' | 'lost' | 'cancelled';

export interface RecoveredTask {
  taskId: string;
  runId: string;
  /** `pending` when it will be retried, `failed` when its attempts ran out. */
  status: 'pending' | 'failed';
}

export interface QueueStore {
  /**
   * The pending-task query: due `pending` tasks of active workflows (not
   * paused, draft or archived), highest priority first, then oldest `runAt`,
   * then id; each leased to `workerId` for `leaseMs` (status `dispatched`,
   * attempt + 1, fresh lease id) and returned with its workflow, atomically,
   * so that two claimers never get the same task. The previous attempt's
   * `executionName` is kept, so an executor can resume what it started.
   */
  claimTasks(options: ClaimOptions): Promise<ClaimedTask[]>;
  /**
   * Records that executors started these tasks (`running`, `startedAt` — the
   * item's, else now —, an optional execution name) and marks their runs
   * `running`, started at their first attempt's start. Fenced: answers
   * `held: false` for a lease not held; `runStarted` says which runs it started.
   * A task already `running` (a claim with `running`) is left as it is unless
   * the mark names an execution: only its pending run starts, at the task's
   * start (a worker that claimed with `deferRunStart`).
   */
  markRunning(items: RunningMark[]): Promise<MarkOutcome[]>;
  /**
   * Extends held leases by `leaseMs` from now. Answers per lease: `held`,
   * `lost` (expired and taken, or finished), or `cancelled` (its run was
   * cancelled: the worker should abort and finish it as cancelled).
   */
  heartbeat(leases: Lease[], leaseMs: number): Promise<LeaseState[]>;
  /**
   * Ends attempts, fenced by lease. In the same transaction: dependents of a
   * step whose tasks all succeeded become pending; a task that ends in failure
   * cancels the waiting tasks of every step downstream of it; the run's
   * counters move and, when every task has ended, the run finishes (`success`,
   * or the status of its first failure) with its duration. A result whose
   * lease is not held is refused (`accepted: false`, with the task's current
   * status). Only a task's first listing in one call counts: a repeat is
   * refused, with the status the first one left.
   */
  finishTasks(results: TaskResult[]): Promise<FinishResult>;
  /**
   * Gives up held leases without charging the attempt (graceful shutdown):
   * the tasks go back to `pending`, due now. Returns how many were released.
   */
  releaseTasks(leases: Lease[]): Promise<number>;
  /**
   * Takes back tasks whose lease expired before `now`: back to `pending` when
   * attempts remain, else `failed` with a lease-expired error (and the run
   * rolls up as for any failure).
   */
  recoverExpiredLeases(now?: Date): Promise<RecoveredTask[]>;
  /**
   * Why tasks wait: each cluster-wide limit key with tasks pending or leased,
   * with its limit, what is used now and how many due tasks wait under it.
   * A due pending task whose key has `used >= limit` is "limited by key X".
   */
  listLimits(): Promise<LimitState[]>;
}

export interface NewLog {
  runId: string;
  taskId?: string | null;
  type: LogType;
  content: string;
}

export interface LogStore {
  /** Appends in the given order; a later call's logs come after. A log for a run that does not exist: NotFoundError naming it, nothing of the call written. */
  appendLogs(logs: NewLog[]): Promise<void>;
  /** In execution order. The cursor is the last log's id. */
  listLogs(runId: string, options?: PageOptions & { taskId?: string }): Promise<Page<Log>>;
}

export interface NewBlock {
  title: string;
  content?: string;
  tags?: string[];
  folderPath?: string | null;
}

export interface NewPayload {
  name: string;
  blocks?: BlockRef[];
  /** @defaultValue 0.6 */
  temperature?: number;
  /** @defaultValue 1000 */
  responseLength?: number;
  /** @defaultValue 5001 */
  llmPort?: number;
  /** @defaultValue 'default' */
  modelFormat?: ModelFormat;
}

/** `updateBlock`'s patch: `null` clears content to '', tags to [], folderPath to null. */
export type BlockPatch = Patch<NewBlock, 'title'>;
/** `updatePayload`'s patch: `null` puts a setting back to its default (blocks [], temperature 0.6, …). */
export type PayloadPatch = Patch<NewPayload, 'name'>;

export interface LibraryStore {
  createBlock(input: NewBlock): Promise<Block>;
  /** Changes the given fields by the patch rule (see {@link BlockPatch}). */
  updateBlock(id: string, patch: BlockPatch): Promise<Block>;
  getBlock(id: string): Promise<Block>;
  /** By title, then id. */
  listBlocks(options?: PageOptions & { tag?: string; folderPath?: string }): Promise<Page<Block>>;
  /** Deleting a block a payload names leaves the reference dangling: resolving it fails with NotFound. */
  deleteBlock(id: string): Promise<void>;
  createPayload(input: NewPayload): Promise<Payload>;
  /** Changes the given fields by the patch rule (see {@link PayloadPatch}). */
  updatePayload(id: string, patch: PayloadPatch): Promise<Payload>;
  getPayload(id: string): Promise<Payload>;
  listPayloads(options?: PageOptions): Promise<Page<Payload>>;
  deletePayload(id: string): Promise<void>;
}

export interface NewConfigEntry {
  key: string;
  value: Json;
  /** Inferred from the value when absent. */
  valueType?: ConfigValueType;
  description?: string | null;
  /** @defaultValue false */
  isSecret?: boolean;
}

export interface ConfigStore {
  /** Creates or replaces. A value not of its `valueType` → ValidationError. */
  setConfig(entry: NewConfigEntry): Promise<ConfigEntry>;
  getConfig(key: string): Promise<ConfigEntry>;
  /** By key. */
  listConfig(): Promise<ConfigEntry[]>;
  deleteConfig(key: string): Promise<void>;
}

export interface NewSession {
  /** @defaultValue a new UUID */
  id?: string;
  clientId: string;
  userId?: string | null;
  connectionType: ConnectionType;
  metadata?: { [key: string]: Json };
}

export interface SessionStore {
  /** Registers (or re-activates, for a known id) a session. */
  registerSession(input: NewSession): Promise<Session>;
  /** Refreshes `lastHeartbeat`; an ended session becomes active again. */
  heartbeatSession(id: string): Promise<Session>;
  endSession(id: string): Promise<void>;
  /** Newest heartbeat first. */
  listSessions(options?: { activeOnly?: boolean }): Promise<Session[]>;
  /**
   * Marks active sessions whose last heartbeat is before `before` inactive;
   * returns how many. With `connectionType`, only sessions of that type: a
   * worker expires dead workers, never a host's websocket or http sessions,
   * which heartbeat on their own schedule.
   */
  expireSessions(before: Date, options?: { connectionType?: ConnectionType }): Promise<number>;
}

export interface NewToolExecution {
  taskId?: string | null;
  runId?: string | null;
  toolName: string;
  arguments: Json;
  /** @defaultValue 'running' */
  status?: ToolExecutionStatus;
}

export interface ToolExecutionEnd {
  status: Exclude<ToolExecutionStatus, 'pending' | 'running'>;
  output?: Json | null;
  error?: string | null;
  durationMs: number;
}

export interface AuditStore {
  recordToolExecution(input: NewToolExecution): Promise<ToolExecution>;
  /**
   * Records how a pending or running tool call ended. Audit records are
   * immutable once finished: finishing a completed, failed or timed-out one
   * again is a ConflictError and leaves it as it was.
   */
  finishToolExecution(id: string, end: ToolExecutionEnd): Promise<ToolExecution>;
  /** Oldest first. */
  listToolExecutions(options?: PageOptions & { taskId?: string; runId?: string; toolName?: string }): Promise<Page<ToolExecution>>;
}

/** A schema migration (SQL stores) or folder format version (file store). */
export interface MigrationState {
  name: string;
  /** When it was applied; null while pending. */
  appliedAt: Date | null;
}

export interface Store extends WorkflowStore, RunStore, QueueStore, LogStore, LibraryStore, ConfigStore, SessionStore, AuditStore {
  /** A short name for messages: 'sqlite', 'pg', 'file'. */
  readonly kind: string;
  /**
   * Runs `fn` in one transaction: everything it does through `tx` commits
   * together or not at all. Nested calls join the outer transaction, and so do
   * calls made on the store itself from inside `fn` (same async context).
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** Applies pending schema migrations; idempotent. Stores also run it on open. */
  migrate(): Promise<void>;
  /** Every migration this store knows, oldest first, applied or pending (`baton migrate --status`). */
  migrationStatus(): Promise<MigrationState[]>;
  /** Releases connections and files; later calls fail with StoreClosedError. Idempotent. */
  close(): Promise<void>;
  /**
   * Optional: calls `listener` when tasks may have become due through another
   * process (PostgreSQL LISTEN/NOTIFY). Returns an unsubscribe function.
   */
  onTasksReady?(listener: () => void): () => void;
}
