import type { Db } from '@baton/store-sql';
import type { CompiledQuery, QueryResult } from 'kysely';

export const TASKS_READY_CHANNEL = 'baton_tasks_ready';

/**
 * Runs one statement of the hot path. Outside a transaction a deadlock
 * (40P01) or serialization failure (40001) rolled back only this statement,
 * so it is run again; inside one, the error goes up to the transaction's own
 * retry (a failed statement aborts the whole transaction).
 */
export async function runOnce<R>(db: Db, query: CompiledQuery): Promise<QueryResult<R>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.executeQuery<R>(query as CompiledQuery<R>);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (db.isTransaction || (code !== '40P01' && code !== '40001') || attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, attempt * 10 * Math.random()));
    }
  }
}
