import { AsyncLocalStorage } from 'node:async_hooks';
import { SchemaVersionError, StoreClosedError, type MigrationState, type Store } from '@baton/core';
import { Migrator, type MigrationResultSet } from 'kysely';
import type { Ctx } from './context.js';
import type { Db, SqlDialect } from './dialect.js';
import { migrations } from './migrations.js';
import { Rows } from './rows.js';
import * as audit from './ops/audit.js';
import * as config from './ops/config.js';
import * as finish from './ops/finish.js';
import * as library from './ops/library.js';
import * as limits from './ops/limits.js';
import { LimitGate } from './ops/limits.js';
import * as logs from './ops/logs.js';
import * as queue from './ops/queue.js';
import * as retry from './ops/retry.js';
import * as creating from './ops/create-runs.js';
import * as runs from './ops/runs.js';
import * as sessions from './ops/sessions.js';
import * as workflows from './ops/workflows.js';

export interface SqlStoreOptions {
  db: Db;
  dialect: SqlDialect;
  /** Schema of the migration bookkeeping tables (PostgreSQL). */
  migrationTableSchema?: string;
  /** Serialises migrations across processes (PostgreSQL: an advisory lock). */
  migrationLock?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Extra clean-up on close, after the Kysely instance is destroyed. */
  onClose?: () => Promise<void>;
  /** How errors name this database: `SQLite file "/x/baton.db"`, `PostgreSQL schema "jobs"`. */
  location?: string;
}

interface Shared {
  closed: boolean;
  options: SqlStoreOptions;
  /**
   * The transaction the current async context runs in. A call on the store
   * itself from inside `transaction(fn)` joins it instead of waiting for a
   * connection the transaction holds (on SQLite's single connection: forever).
   */
  active: AsyncLocalStorage<Ctx>;
  /** Set by `requireSchema` when the schema is not this Baton's: every operation but migrate and close fails with it. */
  unusable?: SchemaVersionError;
  limits: LimitGate;
}

/**
 * The Store on any Kysely database. Unguarded: the store packages wrap it with
 * core's `guardStore`. A transaction is the same class over the transaction's
 * connection, so every operation composes inside `transaction(fn)`.
 */
export class SqlStore implements Store {
  readonly kind: string;
  readonly #shared: Shared;
  readonly #ctx: Ctx;

  constructor(options: SqlStoreOptions, shared?: Shared, trx?: Db) {
    this.kind = options.dialect.name;
    this.#shared = shared ?? { closed: false, options, active: new AsyncLocalStorage<Ctx>(), limits: new LimitGate() };
    this.#ctx = makeCtx(trx ?? options.db, options, new Rows(options.dialect), this.#shared.limits, trx !== undefined);
    this.#trx = trx;
  }

  readonly #trx: Db | undefined;

  get db(): Db {
    return this.#ctx.db;
  }

  #c(): Ctx {
    if (this.#shared.closed) throw new StoreClosedError();
    if (this.#shared.unusable) throw this.#shared.unusable;
    return (!this.#trx && this.#shared.active.getStore()) || this.#ctx;
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const ctx = this.#c();
    if (this.#trx) return fn(this);
    const joined = this.#shared.active.getStore();
    if (joined) return fn(new SqlStore(this.#shared.options, this.#shared, joined.db));
    return ctx.tx((inner) => this.#shared.active.run(inner, () => fn(new SqlStore(this.#shared.options, this.#shared, inner.db))));
  }

  /** Works on a store whose schema is not this Baton's too: migrating and reading the status are how it is fixed. */
  #migrator(): Migrator {
    if (this.#shared.closed) throw new StoreClosedError();
    const ctx = this.#ctx;
    const { dialect, migrationTableSchema } = this.#shared.options;
    return new Migrator({
      db: ctx.db,
      provider: { getMigrations: async () => migrations(dialect) },
      migrationTableName: 'baton_migrations',
      migrationLockTableName: 'baton_migrations_lock',
      ...(migrationTableSchema !== undefined && { migrationTableSchema }),
    });
  }

  async migrate(): Promise<void> {
    const migrator = this.#migrator();
    const lock = this.#shared.options.migrationLock ?? ((fn) => fn());
    await retryCatalogRace(() =>
      lock(async () => {
        // A schema a newer Baton migrated is left alone: its tables may not mean what this version thinks.
        const { unknown } = await this.#schemaState();
        if (unknown.length > 0) throw new SchemaVersionError(this.#location, unknown, []);
        throwOnMigrationError(await migrator.migrateToLatest());
      }),
    );
    this.#shared.unusable = undefined;
  }

  /**
   * For a store opened without migrating: when its schema is not exactly this
   * Baton's (not migrated yet, or by a newer Baton), every operation but
   * `migrate` and `close` fails with a SchemaVersionError instead of an SQL error.
   */
  async requireSchema(): Promise<void> {
    const { unknown, pending } = await this.#schemaState();
    if (unknown.length > 0 || pending.length > 0) this.#shared.unusable = new SchemaVersionError(this.#location, unknown, pending);
  }

  get #location(): string {
    return this.#shared.options.location ?? `the ${this.kind} database`;
  }

  /** Migrations applied that this Baton does not know, and known ones not applied yet. */
  async #schemaState(): Promise<{ unknown: string[]; pending: string[] }> {
    const { dialect, migrationTableSchema } = this.#shared.options;
    const known = Object.keys(migrations(dialect));
    const db = migrationTableSchema ? this.#ctx.db.withSchema(migrationTableSchema) : this.#ctx.db;
    let applied: string[];
    try {
      applied = (
        await (db as Db)
          .selectFrom('baton_migrations' as never)
          .select('name' as never)
          .execute()
      ).map((r) => (r as { name: string }).name);
    } catch (error) {
      if (!isMissingTable(error)) throw error;
      applied = [];
    }
    return { unknown: applied.filter((n) => !known.includes(n)), pending: known.filter((n) => !applied.includes(n)) };
  }

  async migrationStatus(): Promise<MigrationState[]> {
    // Kysely reads the bookkeeping table only when it exists: a fresh database lists all as pending.
    const infos = await retryCatalogRace(() => this.#migrator().getMigrations());
    return infos.map((m) => ({ name: m.name, appliedAt: m.executedAt ?? null }));
  }

  async close(): Promise<void> {
    if (this.#shared.closed || this.#trx) return;
    this.#shared.closed = true;
    await this.#shared.options.db.destroy();
    await this.#shared.options.onClose?.();
  }

  createWorkflow: Store['createWorkflow'] = async (d) => workflows.createWorkflow(this.#c(), d);
  updateWorkflow: Store['updateWorkflow'] = async (id, p) => workflows.updateWorkflow(this.#c(), id, p);
  getWorkflow: Store['getWorkflow'] = async (id) => workflows.getWorkflow(this.#c(), id);
  findWorkflow: Store['findWorkflow'] = async (name) => workflows.findWorkflow(this.#c(), name);
  listWorkflows: Store['listWorkflows'] = async (o) => workflows.listWorkflows(this.#c(), o ?? {});

  createRun: Store['createRun'] = async (i) => creating.createRun(this.#c(), i);
  createRuns: Store['createRuns'] = async (i) => creating.createRuns(this.#c(), i);
  getRun: Store['getRun'] = async (id) => runs.getRun(this.#c(), id);
  listRuns: Store['listRuns'] = async (q) => runs.listRuns(this.#c(), q ?? {});
  cancelRun: Store['cancelRun'] = async (id, r) => runs.cancelRun(this.#c(), id, r);
  countRuns: Store['countRuns'] = async (q) => runs.countRuns(this.#c(), q ?? {});
  retryRun: Store['retryRun'] = async (id) => retry.retryRun(this.#c(), id);
  getTask: Store['getTask'] = async (id) => runs.getTask(this.#c(), id);
  findTaskByExecutionName: Store['findTaskByExecutionName'] = async (n) => runs.findTaskByExecutionName(this.#c(), n);
  listTasks: Store['listTasks'] = async (q) => runs.listTasks(this.#c(), q);
  getStepOutputs: Store['getStepOutputs'] = async (id, s) => runs.getStepOutputs(this.#c(), id, s);

  claimTasks: Store['claimTasks'] = async (o) => queue.claimTasks(this.#c(), o);
  markRunning: Store['markRunning'] = async (i) => queue.markRunning(this.#c(), i);
  heartbeat: Store['heartbeat'] = async (l, ms) => queue.heartbeat(this.#c(), l, ms);
  finishTasks: Store['finishTasks'] = async (r) => finish.finishTasks(this.#c(), r);
  releaseTasks: Store['releaseTasks'] = async (l) => queue.releaseTasks(this.#c(), l);
  recoverExpiredLeases: Store['recoverExpiredLeases'] = async (now) => queue.recoverExpiredLeases(this.#c(), now);
  listLimits: Store['listLimits'] = async () => limits.listLimits(this.#c());

  appendLogs: Store['appendLogs'] = async (l) => logs.appendLogs(this.#c(), l);
  listLogs: Store['listLogs'] = async (id, o) => logs.listLogs(this.#c(), id, o ?? {});

  createBlock: Store['createBlock'] = async (i) => library.createBlock(this.#c(), i);
  updateBlock: Store['updateBlock'] = async (id, p) => library.updateBlock(this.#c(), id, p);
  getBlock: Store['getBlock'] = async (id) => library.getBlock(this.#c(), id);
  listBlocks: Store['listBlocks'] = async (o) => library.listBlocks(this.#c(), o ?? {});
  deleteBlock: Store['deleteBlock'] = async (id) => library.deleteBlock(this.#c(), id);
  createPayload: Store['createPayload'] = async (i) => library.createPayload(this.#c(), i);
  updatePayload: Store['updatePayload'] = async (id, p) => library.updatePayload(this.#c(), id, p);
  getPayload: Store['getPayload'] = async (id) => library.getPayload(this.#c(), id);
  listPayloads: Store['listPayloads'] = async (o) => library.listPayloads(this.#c(), o ?? {});
  deletePayload: Store['deletePayload'] = async (id) => library.deletePayload(this.#c(), id);

  setConfig: Store['setConfig'] = async (e) => config.setConfig(this.#c(), e);
  getConfig: Store['getConfig'] = async (k) => config.getConfig(this.#c(), k);
  listConfig: Store['listConfig'] = async () => config.listConfig(this.#c());
  deleteConfig: Store['deleteConfig'] = async (k) => config.deleteConfig(this.#c(), k);

  registerSession: Store['registerSession'] = async (i) => sessions.registerSession(this.#c(), i);
  heartbeatSession: Store['heartbeatSession'] = async (id) => sessions.heartbeatSession(this.#c(), id);
  endSession: Store['endSession'] = async (id) => sessions.endSession(this.#c(), id);
  listSessions: Store['listSessions'] = async (o) => sessions.listSessions(this.#c(), o ?? {});
  expireSessions: Store['expireSessions'] = async (b, o) => sessions.expireSessions(this.#c(), b, o);

  recordToolExecution: Store['recordToolExecution'] = async (i) => audit.recordToolExecution(this.#c(), i);
  finishToolExecution: Store['finishToolExecution'] = async (id, e) => audit.finishToolExecution(this.#c(), id, e);
  listToolExecutions: Store['listToolExecutions'] = async (o) => audit.listToolExecutions(this.#c(), o ?? {});
}

/** Outside a transaction, `tx` opens one; inside, it reuses it (nested calls join). */
function makeCtx(db: Db, options: SqlStoreOptions, rows: Rows, limits: LimitGate, inTransaction: boolean): Ctx {
  const ctx: Ctx = {
    db,
    dialect: options.dialect,
    rows,
    limits,
    tx: inTransaction
      ? (fn) => fn(ctx)
      : (fn) => options.dialect.transaction(options.db, (t) => fn(makeCtx(t, options, rows, limits, true))),
  };
  return ctx;
}

/** SQLite's "no such table", PostgreSQL's undefined_table. */
function isMissingTable(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '42P01' || /no such table/i.test(e?.message ?? '');
}

/**
 * Kysely's Migrator looks for its table by introspecting every schema, calling
 * `has_schema_privilege(name, …)` on each; when another client drops a schema
 * during that scan (tests on a shared database do, all the time), PostgreSQL
 * answers 3F000 "schema … does not exist" for a schema that is not ours. The
 * scan is read-only (and a migration that failed on it rolled back), so it
 * is simply run again. Seen in the CLI tests while other suites dropped schemas.
 */
async function retryCatalogRace<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const code = (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
      // Test suites drop schemas back to back: give the scan up to ~3 s of quiet.
      if (code !== '3F000' || attempt >= 12) throw error;
      await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 400)));
    }
  }
}

function throwOnMigrationError({ error, results }: MigrationResultSet): void {
  if (!error) return;
  const failed = results?.find((r) => r.status === 'Error');
  const message = `migration ${failed?.migrationName ?? '(unknown)'} failed: ${(error as Error).message ?? String(error)}`;
  throw new Error(message, { cause: error });
}
