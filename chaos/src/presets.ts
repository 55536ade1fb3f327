import { DEFAULT_PG_URL } from '@baton/store-pg';
import { pgKit } from '@baton/test-kit';
import type { FaultKind, ScenarioOptions, StoreKind } from './config.js';
import { faultPlan } from './scenario.js';

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
 * Enough tasks that the run lasts through one fault of every kind this store gets, plus one
 * interval spare, even at full speed: workers × concurrency tasks every workMs (faults only slow
 * it), the first fault one interval in, none in the last tenth. CI once saw the file store's
 * short run (then 250 tasks: ~6 s at full speed) end before its SIGSTOP, due at ~7 s.
 */
function tasksToOutlastFaults(o: Pick<ScenarioOptions, 'workers' | 'concurrency' | 'workMs' | 'faultEveryMs'>, kinds: number): number {
  const tasksPerMs = (o.workers * o.concurrency) / o.workMs;
  return Math.ceil((tasksPerMs * o.faultEveryMs * (kinds + 1)) / 0.9);
}

/**
 * The short run (inside `pnpm test`, ~15-25 s a store) and the full one (`pnpm chaos`,
 * ~1 min a store; the file store, which commits a few hundred tasks a second at best, gets
 * fewer tasks there).
 */
export function preset(store: StoreKind, short: boolean, restartPg: boolean, log: (line: string) => void): ScenarioOptions {
  const pace = {
    workers: short ? 3 : 4,
    // Short: 3 workers × 4 slots ÷ 300 ms = 40 tasks/s at most; a fault every 3.5 s.
    concurrency: short ? 4 : 8,
    workMs: short ? 300 : 200,
    // Longer than a freeze (lease + 2.5 s), so recoveries are measured one at a time.
    faultEveryMs: short ? 3500 : 5000,
  };
  const kinds = faultPlan(store, FAULTS, restartPg).length;
  const atLeast = short ? 0 : store === 'file' ? 2000 : 8000;
  return {
    store,
    ...pace,
    tasks: Math.max(atLeast, tasksToOutlastFaults(pace, kinds)),
    leaseMs: 2000,
    faults: FAULTS,
    restartPg: store === 'pg' && restartPg,
    timeoutMs: short ? 150_000 : 300_000,
    pgUrl: PG_URL,
    log,
  };
}
