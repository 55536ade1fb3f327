/**
 * One processing measurement. Baton has two shapes: one `fanout` run of N
 * tasks, and N `singles` (single-task runs, the job-queue shape, enqueued with
 * one `triggerMany`). A peer's jobs are the same in both shapes (a job has no
 * run around it): its `jobs` row is compared with both.
 */
export interface ThroughputRow {
  system: string;
  db: 'sqlite' | 'pg';
  shape: 'fanout' | 'singles' | 'jobs';
  tasks: number;
  /** Tasks (or jobs) enqueued per second with the system's batch API. */
  enqueuePerSec: number;
  /** Baton singles only: runs created per second by separate `trigger` calls (50 in flight). */
  triggerCallsPerSec?: number;
  processPerSec: number;
  addToStartP50Ms?: number;
  /** PostgreSQL only: WAL bytes written per task (or job) while processing (see walMeter). */
  walBytesPerJob?: number;
  /** CPU per task (or job) while processing, in µs: the bench process's own and the rest of the machine's (see cpuMeter). */
  cpuUsPerJob?: CpuPerJob;
  /** How the system was configured, printed with the results. */
  config: string;
  /**
   * Every round's rates, in round order (null: the system failed that round). The row's own
   * figures are its median round's (by `processPerSec`); ratios pair systems round by round.
   */
  rounds?: ({ processPerSec: number; enqueuePerSec: number } | null)[];
}

/**
 * Rows of several rounds (one list a round, each the systems' rows of that
 * round) → one row per system and shape: its median round's, with every
 * round's rates in `rounds`.
 */
export function medianRounds(rounds: ThroughputRow[][]): ThroughputRow[] {
  const keys = [...new Set(rounds.flat().map(key))];
  return keys.map((k) => {
    const each = rounds.map((round) => round.find((row) => key(row) === k) ?? null);
    const measured = each.filter((row): row is ThroughputRow => row !== null).sort((a, b) => a.processPerSec - b.processPerSec);
    const median = measured[(measured.length - 1) >> 1]!;
    return { ...median, rounds: each.map((row) => (row ? { processPerSec: row.processPerSec, enqueuePerSec: row.enqueuePerSec } : null)) };
  });
}

const key = (row: ThroughputRow) => `${row.system} ${row.db} ${row.shape}`;

/** CPU per job in µs: `process`, the bench process (where every system's workers run); `other`, the rest of the machine (Linux only). */
export interface CpuPerJob {
  process: number;
  other?: number;
}
