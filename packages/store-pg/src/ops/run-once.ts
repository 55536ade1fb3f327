import { createHash } from 'node:crypto';
import { rowShape, type Db } from '@baton/store-sql';
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
 *
 * Rows come from the pool as arrays and are shaped by store-sql's `rowShape`:
 * node-pg's own row objects are an empty row copied and then each column
 * stored by name (a 36-column claim row: ~2 µs in `parseRow`, 49 ms of a
 * 20,000-run CPU profile).
 */
export async function runOnce<R>(db: Db, pool: pg.Pool | undefined, text: string, values: unknown[]): Promise<R[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (pool && !db.isTransaction) {
        const result = await pool.query<unknown[]>({ name: statementName(text), text, values, rowMode: 'array' });
        return result.rows.map(rowShape(result.fields.map((f) => f.name))) as R[];
      }
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
