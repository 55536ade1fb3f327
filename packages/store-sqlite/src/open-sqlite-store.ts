import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { guardStore, type Store } from '@baton/core';
import { SqlStore, type Database as Tables } from '@baton/store-sql';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { ImmediateSqliteDialect, withStatementCache } from './sqlite-driver.js';
import { sqliteDialect } from './sqlite-dialect.js';

export interface SqliteStoreOptions {
  /** The database file; parent folders are created. ':memory:' for a private in-memory database. @defaultValue '.baton/baton.db' */
  filename?: string;
  /** How long a writer waits for another process's write lock. @defaultValue 5000 */
  busyTimeoutMs?: number;
  /** Apply pending migrations on open. @defaultValue true */
  migrate?: boolean;
}

export const DEFAULT_SQLITE_FILE = '.baton/baton.db';

/**
 * Opens (creating if needed) a SQLite-backed Store: WAL journal, a busy
 * timeout, foreign keys on, write transactions with BEGIN IMMEDIATE, and the
 * schema migrated to the latest version.
 */
export async function openSqliteStore(options: SqliteStoreOptions = {}): Promise<Store> {
  const filename = options.filename ?? DEFAULT_SQLITE_FILE;
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  // While opening (WAL switch, migrations) a blocking wait for another process is fine;
  // afterwards the timeout is 0 and the driver retries busy statements asynchronously.
  const database = new Database(filename, { timeout: options.busyTimeoutMs ?? 5000 });
  database.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Tables>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }, options.busyTimeoutMs ?? 5000) });
  const store = new SqlStore({ db, dialect: sqliteDialect });
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  database.pragma('busy_timeout = 0');
  return guardStore(store);
}
