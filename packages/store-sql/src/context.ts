import type { Page } from '@baton/core';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor } from '@baton/core/store-kit';
import { sql, type RawBuilder } from 'kysely';
import type { Db, SqlDialect } from './dialect.js';
import type { LimitGate } from './ops/limits.js';
import type { Rows } from './rows.js';

/** What every operation gets: the connection (or transaction) and the dialect. */
export interface Ctx {
  db: Db;
  dialect: SqlDialect;
  rows: Rows;
  /** Whether cluster-wide limits are in use on this store (shared by every handle of one store). */
  limits: LimitGate;
  /** Runs `fn` in the current transaction, or opens one. */
  tx<T>(fn: (ctx: Ctx) => Promise<T>): Promise<T>;
}

export const DEFAULT_PAGE = DEFAULT_PAGE_SIZE;
export { decodeCursor };

/** Builds a page from `limit + 1` fetched rows. */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, key: (row: R) => (string | number)[]): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), nextCursor: more ? encodeCursor(key(kept[kept.length - 1]!)) : null };
}

/** `updated_at` for an UPDATE: now, or one past the stored value, so it always moves forward. */
export function bumped(now: number): RawBuilder<number> {
  return sql<number>`case when updated_at >= ${now} then updated_at + 1 else ${now} end`;
}

/** The value to compare with an id column (the dialect's `idParam`: on PostgreSQL a string that is not a uuid names no row). */
export function idParam(ctx: Ctx, id: string): string {
  return ctx.dialect.idParam ? ctx.dialect.idParam(id) : id;
}

/**
 * A read of the rows other rows will name (a run's workflow, a log's run),
 * FOR KEY SHARE where rows lock (PostgreSQL): the lock a foreign key's check
 * took, kept where triggers replaced the key (migration 009), so that a
 * delete of those rows waits for this transaction and then sees what it wrote.
 */
export function keyShared<Q extends { forKeyShare(): Q }>(ctx: Ctx, query: Q): Q {
  return ctx.dialect.rowLocks ? query.forKeyShare() : query;
}

/** {@link idParam} over a list (the list itself where ids are text). */
export function idParams(ctx: Ctx, ids: string[]): string[] {
  const { idParam } = ctx.dialect;
  return idParam ? ids.map(idParam) : ids;
}

export type ColumnType = 'text' | 'id' | 'int' | 'ms' | 'json';

/**
 * The rows of a `with v(…) as (…)` list: `values (…), (…)` with each column
 * typed where the engine needs it, or the dialect's `jsonRows` (SQLite: one
 * JSON parameter read by json_each, so the statement's text is the same
 * whatever the batch size and its prepared statement is reused).
 */
export function rowsTable(ctx: Ctx, rows: unknown[][], types: ColumnType[]): RawBuilder<unknown> {
  if (ctx.dialect.jsonRows) return ctx.dialect.jsonRows(rows, types.length);
  const value = (v: unknown, type: ColumnType | undefined) => {
    if (type === 'text' || type === undefined) return sql`${v}`;
    return ctx.dialect.cast(sql`${type === 'id' && typeof v === 'string' ? idParam(ctx, v) : v}`, type);
  };
  return sql`values ${sql.join(rows.map((row) => sql`(${sql.join(row.map((v, i) => value(v, types[i])))})`))}`;
}
