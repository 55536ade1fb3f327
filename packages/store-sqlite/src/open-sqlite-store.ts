import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BatonError, CorruptDataError, ValidationError, type Store } from '@baton/core';
import { guardStore, parse } from '@baton/core/store-kit';
import { SqlStore, type Database as Tables } from '@baton/store-sql';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { z } from 'zod';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { ImmediateSqliteDialect, withStatementCache } from './sqlite-driver.js';
import { sqliteDialect } from './sqlite-dialect.js';

export interface SqliteStoreOptions {
  /** The database file; parent folders are created. ':memory:' for a private in-memory database. @defaultValue '.baton/baton.db' */
  filename?: string;
  /** How long a writer waits for another process's write lock. @defaultValue 5000 */
  busyTimeoutMs?: number;
  /** Apply pending migrations on open. @defaultValue true */
  migrate?: boolean;
  /** Where the WAL checkpoint thread reports that it stopped (see `checkpointer.ts`). @defaultValue console.warn */
  warn?: (message: string) => void;
}

export const DEFAULT_SQLITE_FILE = '.baton/baton.db';

const optionsSchema = z
  .object({
    filename: z.string().min(1, 'must not be empty').optional(),
    busyTimeoutMs: z.number().int('must be an integer').min(0, 'must be at least 0').max(3_600_000).optional(),
    migrate: z.boolean().optional(),
    warn: z.function().optional(),
  })
  .strict();

/**
 * Opens (creating if needed) a SQLite-backed Store: WAL journal, a busy
 * timeout, foreign keys on, write transactions with BEGIN IMMEDIATE, and the
 * schema migrated to the latest version.
 *
 * Throws, naming the file or the option, and writing nothing: a
 * ValidationError for bad options, a directory as `filename` or a parent path
 * that is not a directory; a CorruptDataError for a file that is not a SQLite
 * database; a SchemaVersionError for a database a newer Baton migrated. With
 * `migrate: false` an unmigrated database opens, and every operation but
 * `migrate()` and `close()` fails with a SchemaVersionError until it is migrated.
 */
export async function openSqliteStore(options: SqliteStoreOptions = {}): Promise<Store> {
  parse(optionsSchema, options, 'sqlite store options');
  const filename = options.filename ?? DEFAULT_SQLITE_FILE;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const location = filename === ':memory:' ? 'SQLite in-memory database' : `SQLite file "${resolve(filename)}"`;
  if (filename !== ':memory:') prepareFile(filename);
  let database: Database.Database;
  try {
    // While opening (WAL switch, migrations) a blocking wait for another process is fine;
    // afterwards the timeout is 0 and the driver retries busy statements asynchronously.
    database = new Database(filename, { timeout: busyTimeoutMs });
  } catch (error) {
    throw badFile(filename, `cannot be opened: ${(error as Error).message}`, error);
  }
  let store: SqlStore | undefined;
  try {
    // Switching a fresh file to WAL needs a moment alone with it: wait for other openers asynchronously.
    await whileBusy(database, busyTimeoutMs, () => {
      // A switch SQLite could not make yet answers with the old mode rather than an error.
      const mode = database.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal' && mode !== 'memory')
        throw Object.assign(new Error(`journal mode is still ${String(mode)}`), { code: 'SQLITE_BUSY' });
    });
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    const db = new Kysely<Tables>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }, busyTimeoutMs) });
    let checkpointer: Checkpointer | undefined;
    store = new SqlStore({
      db,
      dialect: sqliteDialect,
      location,
      migrationLock: (fn) => writeLocked(database, busyTimeoutMs, fn),
      // After the store's connection has closed: the thread's closes last.
      onClose: async () => checkpointer?.stop(),
    });
    if (options.migrate !== false) await store.migrate();
    else await store.requireSchema();
    if (filename !== ':memory:')
      checkpointer = startCheckpointer(database, resolve(filename), options.warn ?? ((m) => console.warn(`[baton sqlite] ${m}`)));
  } catch (error) {
    if (store) await store.close().catch(() => {});
    else database.close();
    if (error instanceof BatonError) throw error;
    const code = String((error as { code?: string }).code);
    if (code === 'SQLITE_NOTADB') throw new CorruptDataError(location, 'the file is not a SQLite database', { cause: error });
    if (code.startsWith('SQLITE_BUSY')) {
      throw new BatonError(
        'TIMEOUT',
        `${location}: other processes held its lock for more than busyTimeoutMs (${busyTimeoutMs} ms) while opening`,
        { cause: error },
      );
    }
    throw new CorruptDataError(location, `opening failed: ${(error as Error).message}`, { cause: error });
  }
  database.pragma('busy_timeout = 0');
  return guardStore(store);
}

/** Creates the parent folders; a directory in the file's place or a file in a folder's place is the caller's mistake. */
function prepareFile(filename: string): void {
  const folder = dirname(filename);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EEXIST' || code === 'ENOTDIR')
      throw badFile(filename, `its folder "${folder}" cannot be created: a part of that path is a file, not a directory`, error);
    throw badFile(filename, `its folder "${folder}" cannot be created: ${(error as Error).message}`, error);
  }
  if (statSync(filename, { throwIfNoEntry: false })?.isDirectory()) throw badFile(filename, 'is a directory, not a database file');
}

function badFile(filename: string, message: string, cause?: unknown): ValidationError {
  const error = new ValidationError('sqlite store options', [{ path: 'filename', message: `"${filename}" ${message}` }]);
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause });
  return error;
}

/**
 * Migrations run under SQLite's write lock (BEGIN IMMEDIATE on the store's one
 * connection), so two processes opening a fresh file at once take turns: the
 * second finds the first's tables and has nothing to do. Kysely's SQLite
 * migrator takes no lock of its own (one connection per process is all it
 * knows), and without this 4 of 20 simultaneous opens by 4 processes failed
 * with "table baton_workflows already exists". The lock is taken with
 * asynchronous retries, not SQLite's blocking wait, so that two stores opening
 * in one process do not freeze each other.
 */
async function writeLocked<T>(database: Database.Database, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await whileBusy(database, timeoutMs, () => database.exec('begin immediate'));
  try {
    const result = await fn();
    database.exec('commit');
    return result;
  } catch (error) {
    if (database.inTransaction) database.exec('rollback');
    throw error;
  }
}

/** Runs `step` until SQLite is not busy, pausing 1 → 25 ms between tries, for up to `timeoutMs`; the event loop stays free. */
async function whileBusy(database: Database.Database, timeoutMs: number, step: () => unknown): Promise<void> {
  const timeout = database.pragma('busy_timeout', { simple: true }) as number;
  database.pragma('busy_timeout = 0');
  try {
    const deadline = Date.now() + timeoutMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 25)) {
      try {
        step();
        return;
      } catch (error) {
        if (!String((error as { code?: string }).code).startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  } finally {
    database.pragma(`busy_timeout = ${timeout}`);
  }
}
