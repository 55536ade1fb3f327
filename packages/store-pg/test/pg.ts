import pg from 'pg';
import { DEFAULT_PG_URL } from '@baton/store-pg';

export const PG_URL = process.env.BATON_PG_URL ?? DEFAULT_PG_URL;

/**
 * True when PostgreSQL answers. Outside CI an unreachable server skips the
 * PostgreSQL tests with a loud warning; with CI=true they must run, so this throws.
 */
export async function pgAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`CI=true but PostgreSQL at ${PG_URL} is unreachable: ${(error as Error).message}`);
    console.warn(`\n!!! SKIPPING PostgreSQL tests: no server at ${PG_URL} (${(error as Error).message}). Set BATON_PG_URL or start PostgreSQL; CI runs them.\n`);
    return false;
  }
}

export function schemaName(prefix = 'baton_test'): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Drops the schemas a test file created; connects only when there are some (none when PostgreSQL was skipped). */
export async function dropSchemas(names: Iterable<string>): Promise<void> {
  const list = [...names];
  if (list.length === 0) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    for (const name of list) await client.query(`drop schema if exists ${name} cascade`);
  } finally {
    await client.end();
  }
}

export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
