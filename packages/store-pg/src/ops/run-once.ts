import { createHash } from 'node:crypto';
import type { Db } from '@baton/store-sql';
import { CompiledQuery } from 'kysely';
import type pg from 'pg';

export const TASKS_READY_CHANNEL = 'baton_tasks_ready';

/**
 * Runs one statement of the hot path, prepared: planning the finish statement
 * cost 4 ms of its 9 ms (EXPLAIN ANALYZE, 50 endings), so with a pool at hand
 * and no transaction open, it goes to the pool as a named statement, parsed
 * and planned once per connection. Inside a transaction it runs on the
 * transaction's connection through Kysely, unnamed.
 *
 * Outside a transaction a deadlock (40P01) or serialization failure (40001)
 * rolled back only this statement, so it is run again; inside one, the error
 * goes up to the transaction's own retry (a failed statement aborts the whole
 * transaction).
 */
export async function runOnce<R>(db: Db, pool: pg.Pool | undefined, text: string, values: unknown[]): Promise<R[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (pool && !db.isTransaction) return (await pool.query({ name: statementName(text), text, values })).rows as R[];
      return (await db.executeQuery<R>(CompiledQuery.raw(text, values))).rows;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (db.isTransaction || (code !== '40P01' && code !== '40001') || attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, attempt * 10 * Math.random()));
    }
  }
}

const names = new Map<string, string>();
/** A prepared statement's name is its text's hash: one text, one name, on every connection. */
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `baton_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size > 500) names.clear();
    names.set(text, name);
  }
  return name;
}
