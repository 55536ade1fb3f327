import type { Kysely, RawBuilder } from 'kysely';
import type { ClaimOptions } from '@baton/core';
import type { Database, RunTable, TaskTable, WorkflowTable } from './schema.js';

export type Db = Kysely<Database>;

/** A claimed task row with its workflow and its run's inputs. */
export interface ClaimRow {
  task: TaskTable;
  workflow: WorkflowTable;
  run: Pick<RunTable, 'id' | 'inputs' | 'triggered_by'>;
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
  cast(value: RawBuilder<unknown>, type: 'json' | 'ms'): RawBuilder<unknown>;
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
  /**
   * Locks these limit keys' rows (`baton_limit_keys`) in the given (kind, key)
   * order, skipping rows another claimer holds; returns the keys locked. Engines
   * whose writers never interleave (SQLite) omit it: every key counts as locked.
   */
  lockLimitKeys?(db: Db, keys: { kind: 'concurrency' | 'rate'; key: string }[]): Promise<{ kind: 'concurrency' | 'rate'; key: string }[]>;
  /**
   * Leases these pending tasks (ids chosen by the limited claim) and returns
   * them with their workflows and runs, in one statement. Without it, an UPDATE
   * and two reads do the same.
   */
  leaseTasks?(db: Db, ids: string[], o: { workerId: string; leaseId: string; leaseMs: number; now: number }): Promise<ClaimRow[]>;
  /** Called after a commit made tasks due, so other processes wake (PostgreSQL NOTIFY). */
  notifyTasksReady?(db: Db): Promise<void>;
}
