import { StoreClosedError, ValidationError, type Store } from '@baton/core';
import { guardStore, parse, STORE_READS } from '@baton/core/store-kit';
import { SqlStore, type Database } from '@baton/store-sql';
import { Kysely } from 'kysely';
import { BatonPostgresDialect } from './schema-introspector.js';
import pg from 'pg';
import { z } from 'zod';
import { pgDialectOn } from './pg-dialect.js';
import { PgListener } from './pg-listener.js';
import { guardedPool, isConnectionError, toStoreError } from './pg-faults.js';

export interface PgStoreOptions {
  /** @defaultValue env BATON_PG_URL, else postgres://postgres@127.0.0.1:5432/test */
  connectionString?: string;
  /** An existing pool to use instead; Baton does not end it on close. Its connections must see `schema` on their search_path. */
  pool?: pg.Pool;
  /** Put Baton's tables in this schema (created when missing), beside the host's own tables. */
  schema?: string;
  /** Connections in the pool Baton creates. @defaultValue 10 */
  poolSize?: number;
  /** Apply pending migrations on open. @defaultValue true */
  migrate?: boolean;
  /** Where the LISTEN connection reports outages. @defaultValue console.warn */
  warn?: (message: string) => void;
  /**
   * Bounds on Baton's own connections (a pool Baton creates; a caller's pool keeps
   * its own settings): how long a statement waits for a row lock (`lock_timeout`),
   * how long one statement may run (`statement_timeout`), and how long a session
   * may sit idle inside a transaction before the server ends it
   * (`idle_in_transaction_session_timeout`), which is what frees the locks of a
   * frozen worker (SIGSTOP, a paused VM, a partition) mid-transaction. Baton's own
   * transactions idle for milliseconds between statements; every finish of a run's
   * tasks locks that run's row, so a frozen holder stalls every worker on the run
   * until the server ends its session: keep `idleInTransactionMs` well below `leaseMs`.
   * A host's `store.transaction(fn)` that awaits other work for longer is ended too
   * (StoreUnavailableError; nothing it wrote is kept).
   * @defaultValue { lockMs: 5000, statementMs: 60000, idleInTransactionMs: 1000 }
   */
  timeouts?: { lockMs?: number; statementMs?: number; idleInTransactionMs?: number };
  /** How long to keep trying to connect while the server refuses (restarting). @defaultValue 10000 */
  connectRetryMs?: number;
}

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A client with an 'error' listener from birth: a backend terminated while the
 * pool is still handing the client out (between its own idle listener coming
 * off and the caller's going on) must not end the process. The failing query
 * rejects on its own; the pool drops the client on release.
 */
class ListenedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => {});
  }
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

const isPgUrl = (text: string) => {
  try {
    return ['postgres:', 'postgresql:', 'socket:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
};
const optionsSchema = z
  .object({
    connectionString: z.string().refine(isPgUrl, 'must be a postgres:// or postgresql:// URL').optional(),
    pool: z.custom<pg.Pool>((v) => typeof (v as pg.Pool | undefined)?.connect === 'function', 'must be a pg.Pool').optional(),
    schema: z.string().regex(identifier, 'must be a lower-case SQL identifier (a-z, 0-9, _)').optional(),
    poolSize: z.number().int('must be an integer').min(1, 'must be at least 1').max(1000).optional(),
    migrate: z.boolean().optional(),
    warn: z.function().optional(),
    timeouts: z
      .object({
        lockMs: z.number().int().min(0).optional(),
        statementMs: z.number().int().min(0).optional(),
        idleInTransactionMs: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    connectRetryMs: z.number().int().min(0).optional(),
  })
  .strict();

/**
 * Opens a Store on PostgreSQL for any number of workers on any number of
 * machines: claims with FOR UPDATE SKIP LOCKED, wake-ups by LISTEN/NOTIFY,
 * migrations serialised by an advisory lock.
 */
export async function openPgStore(options: PgStoreOptions = {}): Promise<Store> {
  parse(optionsSchema, options, 'pg store options');
  const connectionString = options.connectionString ?? process.env.BATON_PG_URL ?? DEFAULT_PG_URL;
  if (options.connectionString === undefined && !isPgUrl(connectionString)) {
    throw new ValidationError('pg store options', [
      { path: 'connectionString', message: 'BATON_PG_URL must be a postgres:// or postgresql:// URL' },
    ]);
  }
  const schema = options.schema;
  const searchPath = schema ? `-c search_path=${schema},public` : undefined;
  const t = options.timeouts ?? {};
  const bounds = [
    `-c lock_timeout=${t.lockMs ?? 5000}`,
    `-c statement_timeout=${t.statementMs ?? 60_000}`,
    `-c idle_in_transaction_session_timeout=${t.idleInTransactionMs ?? 1000}`,
  ].join(' ');
  const clientConfig: pg.ClientConfig = { connectionString, options: [searchPath, bounds].filter(Boolean).join(' ') };
  const ownPool = !options.pool;
  const pool = guardedPool(options.pool ?? new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10, Client: ListenedClient }), {
    connectRetryMs: options.connectRetryMs ?? 10_000,
  });
  if (schema) {
    const client = await pool.connect();
    try {
      await client.query(`create schema if not exists ${schema}`);
    } catch (error) {
      // Two processes creating it at once: one wins, the other sees a duplicate.
      if ((error as { code?: string }).code !== '23505' && (error as { code?: string }).code !== '42P06') throw error;
    } finally {
      client.release();
    }
  }
  // LISTEN on the database the pool talks to: a caller's pool may point anywhere.
  const listenConfig: pg.ClientConfig = options.pool
    ? { ...(options.pool as unknown as { options: pg.ClientConfig }).options }
    : { connectionString };
  const listener = new PgListener(listenConfig, options.warn ?? ((m) => console.warn(`[baton pg] ${m}`)));
  // Kysely ends the pool it is given on destroy; a caller's pool stays the caller's to end.
  const kyselyPool = { connect: () => pool.connect(), end: ownPool ? () => pool.end() : async () => {} };
  const db = new Kysely<Database>({ dialect: new BatonPostgresDialect({ pool: kyselyPool as pg.Pool }) });
  // Without a schema, Baton's tables go to the connection's current schema. Name it for the
  // migrator too: unnamed, Kysely looks for its bookkeeping tables in every schema it sees, finds
  // another Baton schema's, creates none here, and fails with "relation baton_migrations_lock does not exist".
  const tableSchema =
    schema ??
    (await currentSchema(pool).catch(async (error) => {
      if (ownPool) await pool.end().catch(() => {});
      throw toStoreError(error);
    }));
  const lockKey = `baton_migrate:${tableSchema}`;
  const store = new SqlStore({
    db,
    dialect: pgDialectOn(pool.pool),
    migrationTableSchema: tableSchema,
    location: `PostgreSQL schema "${tableSchema}"`,
    // Kysely's Migrator locks too, but creating its bookkeeping tables races when
    // several processes start at once; one session-level advisory lock covers it all.
    migrationLock: async (fn) => {
      const client = await pool.connect();
      try {
        // Waiting for another process's migration is expected at startup: no lock_timeout for it.
        await client.query(`set lock_timeout = 0`);
        await client.query('select pg_advisory_lock(hashtext($1))', [lockKey]);
        return await fn();
      } finally {
        await client.query('select pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => {});
        await client.query('reset lock_timeout').catch(() => {});
        client.release();
      }
    },
    onClose: async () => {
      await listener.close();
    },
  });
  (store as Store).onTasksReady = (fn) => listener.subscribe(fn);
  try {
    if (options.migrate !== false) await store.migrate();
    else await store.requireSchema();
  } catch (error) {
    await store.close();
    throw error;
  }
  return guardStore(withTypedErrors(store));
}

/** Calls that only read (core's list, the same a handler's read-only store has): safe to repeat when the connection failed under them. */
const READS = new Set<string | symbol>(STORE_READS);

/**
 * Every call's connection failure or lock/statement timeout surfaces as
 * StoreUnavailableError; reads that hit a dead connection are repeated twice
 * first. (Transactions are repeated by the dialect, before COMMIT only.)
 */
function withTypedErrors(store: Store): Store {
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function' || prop === 'onTasksReady') return value;
      return async (...args: unknown[]) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (error) {
            if (READS.has(prop) && attempt < 3 && isConnectionError(error) && !(error instanceof StoreClosedError)) {
              await new Promise((r) => setTimeout(r, 100 * attempt));
              continue;
            }
            throw toStoreError(error);
          }
        }
      };
    },
  });
}

async function currentSchema(pool: Pick<pg.Pool, 'connect'>): Promise<string> {
  const client = await pool.connect();
  const { rows } = await client.query<{ schema: string | null }>('select current_schema() as schema').finally(() => client.release());
  const found = rows[0]?.schema;
  if (!found)
    throw new ValidationError('pg store options', [
      { path: 'schema', message: 'the connection has no current schema (empty search_path): give one' },
    ]);
  return found;
}
