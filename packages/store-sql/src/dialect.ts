import type { CopyRows, JsonRows } from './json-rows.js';
import type { Kysely, RawBuilder } from 'kysely';
import type { ClaimOptions, FinishResult, MarkOutcome, RunningMark, TaskResult } from '@baton/core';
import type { Database, RunTable, TaskTable, WorkflowTable } from './schema.js';

export type Db = Kysely<Database>;

/** A claimed task row with its workflow and its run's inputs. */
export interface ClaimRow {
  task: TaskTable;
  workflow: WorkflowTable;
  run: Pick<RunTable, 'id' | 'inputs' | 'triggered_by'>;
  /**
   * True when the claiming statement itself moved this run from pending to
   * running (with `running`), as its write reported it (RETURNING), on every
   * row of that run: `claimTasks` keeps it on the first only.
   */
  runStarted: boolean;
  /** True when the run is still pending after the claim (ClaimedTask.runPending). */
  runPending: boolean;
}

/** How a claim leases tasks (ClaimOptions.running: leased `running`, started now, their runs started unless `deferRunStart`). */
export interface LeaseOptions {
  workerId: string;
  leaseId: string;
  leaseMs: number;
  now: number;
  running?: boolean;
  deferRunStart?: boolean;
}

/**
 * What differs between SQL engines. Everything else in @baton/store-sql is
 * one Kysely implementation that both SQLite and PostgreSQL run.
 */
export interface SqlDialect {
  readonly name: string;
  /** DDL types. */
  readonly types: { json: 'text' | 'jsonb'; ms: 'integer' | 'bigint'; logId: 'integer' | 'bigserial' };
  /** Encodes a JSON value for a JSON column. */
  encodeJson(value: unknown): unknown;
  /** Decodes what the driver returned for a JSON column. */
  decodeJson(value: unknown): unknown;
  /**
   * The pending-task query: leases up to `limit` due tasks atomically, in one
   * statement where the engine allows. It reads only tasks without limits
   * (`concurrency_key is null and rate_key is null`); ops/limits.ts claims the others.
   */
  claim(db: Db, options: ClaimOptions & { leaseId: string; now: number }): Promise<ClaimRow[]>;
  /** True when `claim` is a single statement, atomic without a transaction around it (one round trip, no BEGIN/COMMIT). */
  readonly claimIsOneStatement?: boolean;
  /** True when `error` is a unique-constraint violation. */
  isUniqueViolation(error: unknown): boolean;
  /** Runs `fn` in a write transaction (SQLite: BEGIN IMMEDIATE). */
  transaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T>;
  /** Types an untyped value (a VALUES column, a parameter) for a column of that kind; SQLite needs no cast. */
  cast(value: RawBuilder<unknown>, type: 'json' | 'ms' | 'int' | 'id'): RawBuilder<unknown>;
  /**
   * Optional, for engines whose id columns are not text (PostgreSQL: `uuid`):
   * the value to compare with an id column. A string that is not an id names no
   * row, so it becomes an id no row has: the statement matches nothing (a
   * NotFoundError, a refused lease) instead of failing on the cast, and a bad
   * id in a batch is refused alone. Without it ids are text, compared as given.
   */
  idParam?(id: string): string;
  /**
   * A SELECT that locks these tasks' rows in id order (PostgreSQL: … ORDER BY id
   * FOR UPDATE), run as the first step of a multi-row write so two writers
   * never deadlock. Engines whose writers never interleave (SQLite) omit it.
   */
  lockTasksInOrder?(taskIds: string[]): RawBuilder<unknown>;
  /**
   * Called in the transaction that inserted `count` tasks at once. PostgreSQL
   * refreshes the planner's statistics when the batch is large: a claim
   * planned on statistics taken before a big fan-out sorts every pending task.
   */
  afterTasksInserted?(db: Db, count: number): Promise<void>;
  /** True when the engine has row locks with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL); SQLite's writers never interleave. */
  readonly rowLocks?: boolean;
  /** Caps how long the current transaction's statements wait for a row lock (PostgreSQL: SET LOCAL lock_timeout). */
  boundLockWait?(db: Db, ms: number): Promise<void>;
  /**
   * Optional: the whole of `finishTasks` (fence, roll-up by core's rules,
   * notify) in one statement, atomic without a transaction around it. Without
   * it the store runs its portable path: a constant number of statements in a
   * transaction (see ops/finish.ts).
   */
  finishTasks?(db: Db, results: TaskResult[], now: number): Promise<FinishResult>;
  /**
   * Optional: `markRunning` in one statement (the fenced mark and the runs it
   * starts). Without it: two statements in a transaction (see ops/queue.ts).
   */
  markRunning?(db: Db, items: RunningMark[], now: number): Promise<MarkOutcome[]>;
  /**
   * Optional: a table of `columns` columns from these rows, as one parameter
   * (SQLite: `select value ->> '$[0]', … from json_each(?)`). Without it,
   * multi-row writes use a VALUES list, one parameter per value.
   */
  jsonRows?(rows: unknown[][], columns: number): RawBuilder<unknown>;
  /**
   * Inserts rows into `table` from one JSON document parameter (the columns
   * that vary) and the constant columns' values, instead of a multi-row VALUES
   * with a parameter per value (see json-rows.ts). With `copy`, the same rows'
   * values also go into a second table (a task's place in its run), from the
   * same document: PostgreSQL in the same statement.
   */
  insertJsonRows(db: Db, table: string, rows: JsonRows, copy?: CopyRows): Promise<void>;
  /**
   * Locks these limit keys' rows (`baton_limit_keys`) in the given (kind, key)
   * order, skipping rows another claimer holds; returns the keys locked. Engines
   * whose writers never interleave (SQLite) omit it: every key counts as locked.
   */
  lockLimitKeys?(db: Db, keys: { kind: 'concurrency' | 'rate'; key: string }[]): Promise<{ kind: 'concurrency' | 'rate'; key: string }[]>;
  /**
   * Leases these tasks (ids chosen by the limited claim), those still pending,
   * exactly as `claim` leases (`running` included), and returns them with their
   * workflows and runs.
   */
  leaseTasks(db: Db, ids: string[], o: LeaseOptions): Promise<ClaimRow[]>;
  /** Called after a commit made tasks due, so other processes wake (PostgreSQL NOTIFY). */
  notifyTasksReady?(db: Db): Promise<void>;
}
