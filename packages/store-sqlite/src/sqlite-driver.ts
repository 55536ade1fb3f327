import { StoreUnavailableError } from '@baton/core';
import { rowShape } from '@baton/store-sql';
import type Database from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';

/**
 * Kysely's SQLite driver begins transactions with a deferred BEGIN, which
 * takes the write lock only at the first write: two processes can then both
 * read, both try to write, and one fails with SQLITE_BUSY without waiting.
 * BEGIN IMMEDIATE takes the write lock up front, so the busy timeout applies.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #busyTimeoutMs: number;
  constructor(config: ConstructorParameters<typeof SqliteDriver>[0], busyTimeoutMs: number) {
    super(config);
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    return {
      executeQuery: (query) => retryWhileBusy(() => connection.executeQuery(query), this.#busyTimeoutMs),
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * SQLite's own busy timeout waits synchronously, freezing Node's event loop
 * (heartbeats included), and deadlocks two handles in one process: the lock
 * holder cannot run while the waiter blocks. So the database's busy timeout is
 * 0 and a busy statement (nothing was done) is retried here, asynchronously,
 * with a growing pause, until `timeoutMs` has passed; then it fails with
 * StoreUnavailableError, which the scheduler backs off from.
 */
async function retryWhileBusy<T>(run: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 25)) {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY')) throw error;
      if (Date.now() >= deadline)
        throw new StoreUnavailableError(
          `SQLite database is locked: another connection held the write lock for over ${timeoutMs} ms (${code})`,
          { cause: error },
        );
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  readonly #busyTimeoutMs: number;
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0], busyTimeoutMs: number) {
    super(config);
    this.#config = config;
    this.#busyTimeoutMs = busyTimeoutMs;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#busyTimeoutMs);
  }
}

/**
 * Kysely prepares every statement anew; preparing cost as much as running in
 * the claim loop's profile. Baton's statements repeat, so keep the prepared
 * ones (bounded, least recently used first out), each wrapped by `withRowShape`.
 */
export function withStatementCache(database: Database.Database, size = 256): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = withRowShape(database.prepare(sql));
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

/**
 * Rows as objects built from better-sqlite3's raw arrays (store-sql's
 * `rowShape`). better-sqlite3 builds each row object through V8's C++ API, one
 * property at a time: a batch of 50 claimed tasks cost 26.8 µs a task against
 * 20.9 shaped here (in-process A/B, best of 8).
 */
export function withRowShape(statement: Database.Statement): SqliteStatement {
  if (!statement.reader) return statement as unknown as SqliteStatement;
  const compile = () => {
    const names = statement.columns().map((c) => c.name);
    return { width: names.length, shape: rowShape(names) };
  };
  let current = compile();
  // SQLite re-prepares a statement whose tables another connection altered, and `*` may
  // then name other columns: a row of another width gets its shape compiled again.
  const shape = (row: unknown[]) => {
    if (row.length !== current.width) current = compile();
    return current.shape(row);
  };
  const raw = statement.raw(true);
  return {
    reader: true,
    all: (parameters) => (raw.all(parameters) as unknown[][]).map(shape),
    run: (parameters) => raw.run(parameters),
    *iterate(parameters) {
      for (const row of raw.iterate(parameters) as IterableIterator<unknown[]>) yield shape(row);
    },
  };
}
