import { DEFAULT_PG_URL } from '@baton/store-pg';
import { pgKit } from '@baton/test-kit';
import type { FaultKind, ScenarioOptions, StoreKind } from './config.js';

const pg = pgKit(process.env.BATON_PG_URL ?? DEFAULT_PG_URL);
const PG_URL = pg.url;

/**
 * True when PostgreSQL answers. Outside CI an unreachable server skips the pg
 * run, loudly; with CI=true it must run, so this throws.
 */
export const pgReachable = () => pg.available('the PostgreSQL chaos run');

/**
 * Every kind once, in this order, then again in turn (see nextFault); the restart happens once,
 * and only where allowed. The SIGSTOP comes before the restart: the short test asserts it on
 * every store, and a restart costs a few seconds of the run.
 */
const FAULTS: FaultKind[] = ['kill', 'stop', 'restart', 'terminate'];

/**
 * The short run (inside `pnpm test`, ~20 s a store) and the full one (`pnpm chaos`,
 * ~1 min a store). Sized so the run lasts through several faults; the file store
 * commits a few hundred tasks a second at best, so it gets fewer tasks.
 */
export function preset(store: StoreKind, short: boolean, restartPg: boolean, log: (line: string) => void): ScenarioOptions {
  return {
    store,
    workers: short ? 3 : 4,
    // Short: 3 workers × 4 slots ÷ 300 ms ≈ 40 tasks/s, and a fault every 3.5 s until the last tenth:
    // PostgreSQL's three or four kinds (a restart stalls work ~3–5 s) need ~20 s of run, the others' two ~10 s.
    tasks: short ? (store === 'file' ? 250 : store === 'pg' ? (restartPg ? 800 : 650) : 400) : store === 'file' ? 2000 : 8000,
    concurrency: short ? 4 : 8,
    leaseMs: 2000,
    workMs: short ? 300 : 200,
    // Longer than a freeze (lease + 2.5 s), so recoveries are measured one at a time.
    faultEveryMs: short ? 3500 : 5000,
    faults: FAULTS,
    restartPg: store === 'pg' && restartPg,
    timeoutMs: short ? 150_000 : 300_000,
    pgUrl: PG_URL,
    log,
  };
}
