import pg from 'pg';
import type { FaultKind, ScenarioOptions, StoreKind } from './config.js';

export const PG_URL = process.env.BATON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * True when PostgreSQL answers. Outside CI an unreachable server skips the pg
 * run, loudly; with CI=true it must run, so this throws.
 */
export async function pgReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`CI=true but PostgreSQL at ${PG_URL} is unreachable: ${(error as Error).message}`);
    console.warn(`\n!!! SKIPPING the PostgreSQL chaos run: no server at ${PG_URL} (${(error as Error).message})\n`);
    return false;
  }
}

/** Every fault in turn; the restart happens once, and only where allowed. */
const FAULTS: FaultKind[] = ['kill', 'terminate', 'stop', 'restart', 'kill', 'terminate', 'stop'];

/**
 * The short run (inside `pnpm test`, ~20 s a store) and the full one (`pnpm chaos`,
 * ~1 min a store). Sized so the run lasts through several faults; the file store
 * commits a few hundred tasks a second at best, so it gets fewer tasks.
 */
export function preset(store: StoreKind, short: boolean, restartPg: boolean, log: (line: string) => void): ScenarioOptions {
  return {
    store,
    workers: short ? 3 : 4,
    tasks: short ? (store === 'file' ? 250 : 400) : store === 'file' ? 2000 : 8000,
    concurrency: short ? 4 : 8,
    leaseMs: 2000,
    workMs: short ? 300 : 200,
    // Longer than a freeze (lease + 2.5 s), so recoveries are measured one at a time.
    faultEveryMs: short ? 3500 : 5000,
    faults: FAULTS,
    restartPg: store === 'pg' && restartPg,
    timeoutMs: short ? 90_000 : 300_000,
    pgUrl: PG_URL,
    log,
  };
}
