import { StoreUnavailableError } from '@baton/core';
import type pg from 'pg';

/**
 * SQLSTATEs and socket errors that mean the connection (not the statement) failed:
 * the server is shutting down or restarting, the backend was terminated
 * (pg_terminate_backend: 57P01), the session timed out idle in a transaction
 * (25P03), or the socket broke. Whatever transaction ran on it was rolled back.
 */
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '25P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** node-pg reports a broken socket with plain messages, no code. */
const CONNECTION_MESSAGES =
  /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect|Connection ended/i;
/** A lock or statement waited past Baton's bound (lock_timeout 55P03, statement_timeout 57014). */
const TIMEOUT_SQLSTATES = new Set(['55P03', '57014']);

export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (CONNECTION_SQLSTATES.has(e.code) || SOCKET_CODES.has(e.code))) return true;
  return typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message);
}

function isTimeoutError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TIMEOUT_SQLSTATES.has(code);
}

/** A connection or timeout failure as the typed StoreUnavailableError; anything else unchanged. */
export function toStoreError(error: unknown): unknown {
  if (isConnectionError(error))
    return new StoreUnavailableError(`PostgreSQL connection failed (${(error as Error).message})`, { cause: error });
  if (isTimeoutError(error)) return new StoreUnavailableError(`PostgreSQL gave up waiting (${(error as Error).message})`, { cause: error });
  return error;
}

/**
 * A checked-out client whose connection dies emits 'error' on the client, not
 * on the pool (the pool only listens while the client is idle); with no
 * listener that event ends the process. Every client Baton takes from a pool
 * gets one listener, once. The failing query rejects on its own; the pool
 * drops the dead client when it is released.
 */
export function guardedPool(pool: pg.Pool, options: { connectRetryMs: number }): Pick<pg.Pool, 'connect' | 'end'> & { pool: pg.Pool } {
  const guarded = new WeakSet<pg.PoolClient>();
  const ignore = () => {};
  // Idle clients that die emit on the pool; without this listener the host process would crash.
  pool.on('error', ignore);
  const connect = async (): Promise<pg.PoolClient> => {
    // Connecting is always safe to repeat: while the server restarts (57P03, ECONNREFUSED)
    // keep trying for connectRetryMs (measured: a fast restart refuses connections for 1-3 s).
    const deadline = Date.now() + options.connectRetryMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
      try {
        const client = await pool.connect();
        if (!guarded.has(client)) {
          guarded.add(client);
          client.on('error', ignore);
        }
        return client;
      } catch (error) {
        if (!isConnectionError(error) || Date.now() + pause > deadline) throw error;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  };
  return { pool, connect: connect as pg.Pool['connect'], end: () => pool.end() };
}
