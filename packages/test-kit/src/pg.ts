import pg from 'pg';

export interface PgKit {
  /** The server the tests use. */
  url: string;
  /**
   * True when PostgreSQL answers. Outside CI an unreachable server skips `what`
   * with a loud warning; with CI=true it must run, so this throws.
   */
  available(what?: string): Promise<boolean>;
  /** A schema name no other test process uses. */
  schemaName(prefix?: string): string;
  /** Drops the schemas a test file created; connects only when there are some (none when PostgreSQL was skipped). */
  dropSchemas(names: Iterable<string>): Promise<void>;
  /** One statement on a connection of its own. */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
}

/** PostgreSQL helpers bound to one server (each caller passes its URL: the kit depends on no store). */
export function pgKit(url: string): PgKit {
  async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
  return {
    url,
    async available(what = 'PostgreSQL tests') {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.end();
        return true;
      } catch (error) {
        const reason = (error as Error).message;
        if (process.env.CI === 'true') throw new Error(`CI=true but PostgreSQL at ${url} is unreachable: ${reason}`);
        console.warn(`\n!!! SKIPPING ${what}: no server at ${url} (${reason}). Set BATON_PG_URL or start PostgreSQL; CI runs them.\n`);
        return false;
      }
    },
    schemaName: (prefix = 'baton_test') => `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`,
    async dropSchemas(names) {
      const list = [...names];
      if (list.length === 0) return;
      await withClient(async (client) => {
        for (const name of list) await client.query(`drop schema if exists ${name} cascade`);
      });
    },
    query: (text, values = []) => withClient(async (client) => (await client.query(text, values)).rows),
  };
}
