import { PostgresDialect, sql, type DatabaseIntrospector, type DatabaseMetadata, type Kysely, type SchemaMetadata, type TableMetadata } from 'kysely';

/**
 * Kysely's PostgreSQL dialect with a catalog-only introspector, for the
 * migrator's two questions (does this schema exist, does this table exist).
 *
 * Kysely's own introspector reads every column of every table in every schema
 * and calls `has_schema_privilege(nspname, …)` and
 * `pg_get_serial_sequence(nspname || '.' || relname, …)` by name: when any
 * other schema of the database is dropped while that runs (another
 * application's migrations, parallel test suites), the lookup by name fails
 * with `schema "…" does not exist` and so did opening a Baton store. This one
 * reads `pg_namespace` and `pg_class` by oid, with no lookups by name, and no
 * columns (the migrator needs none).
 */
export class CatalogPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CatalogIntrospector(db);
  }
}

class CatalogIntrospector implements DatabaseIntrospector {
  constructor(readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(this.db);
    return rows;
  }

  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ schema: string; name: string; kind: string }>`
      select n.nspname as schema, c.relname as name, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'v', 'm') and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'`.execute(this.db);
    return rows.map((r) => ({ schema: r.schema, name: r.name, isView: r.kind === 'v' || r.kind === 'm', columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}
