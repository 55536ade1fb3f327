export interface ThroughputRow {
  system: string;
  db: 'sqlite' | 'pg';
  tasks: number;
  enqueuePerSec: number;
  /** Baton only: single-task runs created per second. */
  enqueueRunsPerSec?: number;
  processPerSec: number;
  addToStartP50Ms?: number;
  /** How the system was configured, printed with the results. */
  config: string;
}
