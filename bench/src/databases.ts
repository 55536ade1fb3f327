import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** This run's suffix: several benches (and bench tests) may share one server. */
const RUN = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

/**
 * A fresh PostgreSQL database for one bench run, dropped after. Its name ends
 * with this run's suffix: a fixed name would let two runs on one server drop
 * (WITH FORCE) the database the other is measuring.
 */
export async function freshPgDatabase(baseUrl: string, prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${RUN}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      // A closed pool's backends can linger for a moment after end() resolves;
      // give them time to go so FORCE only ever hits a leak, never a peer
      // that is still shutting down.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const { rows } = await c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if (rows[0]!.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * Counts the WAL PostgreSQL writes from now until the returned function is
 * called, in bytes: what a workload costs the database in writes. Unlike a
 * rate it does not move with the machine's load (WAL is server-wide: the
 * bench runs one system at a time).
 */
export async function walMeter(url: string): Promise<() => Promise<number>> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  const { rows } = await client.query<{ lsn: string }>('select pg_current_wal_lsn() as lsn');
  return async () => {
    try {
      const { rows: written } = await client.query<{ n: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1) as n', [rows[0]!.lsn]);
      return Number(written[0]!.n);
    } finally {
      await client.end();
    }
  };
}

export async function pgReachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  mkdirSync(tmpdir(), { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
