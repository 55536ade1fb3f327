import { StoreUnavailableError } from '@baton/core';
import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDatabase, type SqliteStatement } from 'kysely';

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
      if (Date.now() >= deadline) throw new StoreUnavailableError(`SQLite database is locked: another connection held the write lock for over ${timeoutMs} ms (${code})`, { cause: error });
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
 * ones (bounded, least recently used first out).
 */
export function withStatementCache(database: SqliteDatabase, size = 256): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}
