import { ValidationError, guardStore, type Store } from '@baton/core';
import { SqlStore, type Database } from '@baton/store-sql';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { pgDialectOn } from './pg-dialect.js';
import { PgListener } from './pg-listener.js';

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
}

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens a Store on PostgreSQL for any number of workers on any number of
 * machines: claims with FOR UPDATE SKIP LOCKED, wake-ups by LISTEN/NOTIFY,
 * migrations serialised by an advisory lock.
 */
export async function openPgStore(options: PgStoreOptions = {}): Promise<Store> {
  const connectionString = options.connectionString ?? process.env.BATON_PG_URL ?? DEFAULT_PG_URL;
  const schema = options.schema;
  if (schema !== undefined && !identifier.test(schema)) {
    throw new ValidationError('pg store options', [{ path: 'schema', message: 'must be a lower-case SQL identifier (a-z, 0-9, _)' }]);
  }
  const searchPath = schema ? `-c search_path=${schema},public` : undefined;
  const clientConfig: pg.ClientConfig = { connectionString, ...(searchPath && { options: searchPath }) };
  const ownPool = !options.pool;
  const pool = options.pool ?? new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10 });
  // A connection that dies while idle in the pool emits 'error' on the pool; without a
  // listener that would crash the host process. The pool drops it and opens another.
  pool.on('error', () => {});
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
  const listener = new PgListener(clientConfig, options.warn ?? ((m) => console.warn(`[baton pg] ${m}`)));
  // Kysely ends the pool it is given on destroy; a caller's pool stays the caller's to end.
  const kyselyPool = ownPool ? pool : { connect: () => pool.connect(), end: async () => {} };
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: kyselyPool as pg.Pool }) });
  const lockKey = `baton_migrate:${schema ?? 'public'}`;
  const store = new SqlStore({
    db,
    dialect: pgDialectOn(pool),
    ...(schema && { migrationTableSchema: schema }),
    // Kysely's Migrator locks too, but creating its bookkeeping tables races when
    // several processes start at once; one session-level advisory lock covers it all.
    migrationLock: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock(hashtext($1))', [lockKey]);
        return await fn();
      } finally {
        await client.query('select pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => {});
        client.release();
      }
    },
    onClose: async () => {
      await listener.close();
    },
  });
  (store as Store).onTasksReady = (fn) => listener.subscribe(fn);
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return guardStore(store);
}
