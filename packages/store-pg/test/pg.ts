// PostgreSQL for store-pg's tests: the shared kit bound to BATON_PG_URL, else store-pg's default server.
import { Kysely, type MigrationResult, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { pgKit } from '@baton/test-kit';
import { migrations } from '@baton/store-sql';
import { DEFAULT_PG_URL, pgDialect } from '@baton/store-pg';

const kit = pgKit(process.env.BATON_PG_URL ?? DEFAULT_PG_URL);
export const PG_URL = kit.url;
export const { schemaName, dropSchemas, query } = kit;
export const pgAvailable = () => kit.available();

/** Kysely's Migrator on `schema`, as SqlStore builds it, stepping back to `name` (down over every later migration). */
export async function migrateDownTo(schema: string, name: string): Promise<MigrationResult[]> {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: PG_URL, max: 1, options: `-c search_path=${schema},public` }) }),
  });
  try {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => migrations(pgDialect) },
      migrationTableName: 'baton_migrations',
      migrationLockTableName: 'baton_migrations_lock',
      migrationTableSchema: schema,
    });
    const { error, results } = await migrator.migrateTo(name);
    if (error) throw error;
    return results ?? [];
  } finally {
    await db.destroy();
  }
}
