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
}

/** CPU per job in µs: `process`, the bench process (where every system's workers run); `other`, the rest of the machine (Linux only). */
export interface CpuPerJob {
  process: number;
  other?: number;
}
