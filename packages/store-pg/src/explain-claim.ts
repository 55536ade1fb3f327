import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '@baton/store-sql';
import { newId } from '@baton/core/store-kit';
import { claimStatement } from './pg-dialect.js';
import { DEFAULT_PG_URL } from './open-pg-store.js';

/**
 * The plan PostgreSQL picks for the pending-task claim (EXPLAIN, not run):
 * a test reads it and the bench prints it to show the partial index at work.
 */
export async function explainClaim({
  connectionString = process.env.BATON_PG_URL ?? DEFAULT_PG_URL,
  schema,
  limit = 50,
  analyze = false,
  running = false,
}: {
  connectionString?: string;
  schema?: string;
  limit?: number;
  analyze?: boolean;
  running?: boolean;
} = {}): Promise<string> {
  const pool = new pg.Pool({ connectionString, max: 1, ...(schema && { options: `-c search_path=${schema},public` }) });
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    const statement = claimStatement({ workerId: 'explain', limit, leaseMs: 1000, leaseId: newId(), now: Date.now(), running });
    // ANALYZE really runs the claim: do it in a transaction that is always rolled back.
    class Plan extends Error {
      constructor(readonly text: string) {
        super('rollback');
      }
    }
    try {
      await db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${analyze ? sql`(analyze, buffers)` : sql``} ${statement}`.execute(
          trx,
        );
        throw new Plan(rows.map((r) => r['QUERY PLAN']).join('\n'));
      });
    } catch (error) {
      if (error instanceof Plan) return error.text;
      throw error;
    }
    throw new Error('unreachable');
  } finally {
    await db.destroy();
  }
}
