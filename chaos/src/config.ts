export type StoreKind = 'sqlite' | 'pg' | 'file';

/** What the conductor passes each worker process (as JSON in argv). */
export interface WorkerConfig {
  store: StoreKind;
  /** SQLite file, store folder, or PostgreSQL URL. */
  location: string;
  schema?: string;
  workerId: string;
  concurrency: number;
  leaseMs: number;
  recoverIntervalMs: number;
  /** Each task sleeps between workMs/2 and 1.5 × workMs. */
  workMs: number;
  tasks: number;
}

export type FaultKind = 'kill' | 'stop' | 'terminate' | 'restart';

export interface ScenarioOptions {
  store: StoreKind;
  workers: number;
  tasks: number;
  concurrency: number;
  leaseMs: number;
  workMs: number;
  /** Pause between faults. */
  faultEveryMs: number;
  /** Faults to inject, in turn; those the store does not have (terminate, restart on SQLite) are left out. */
  faults: FaultKind[];
  /** Restart PostgreSQL once (needs the rights; see restartAllowed). */
  restartPg: boolean;
  /** Give up waiting for the run after this long. */
  timeoutMs: number;
  pgUrl: string;
  log: (line: string) => void;
}

export interface ScenarioResult {
  store: StoreKind;
  tasks: number;
  faults: Record<FaultKind, number>;
  /** The kinds of fault this store's run was to receive (the verdict fails when one never fired). */
  planned: FaultKind[];
  /** Tasks that did not end in success (run timed out or failed them). */
  lost: number;
  /** Tasks started more than once (expected after kills and freezes). */
  rerun: number;
  /** Completions written although a newer attempt held the task (fencing broken). */
  staleApplied: number;
  /** Worker processes that died of something other than our SIGKILL. */
  crashes: number;
  crashDetails: string[];
  /** Tasks the killed or frozen workers were running when hit. */
  held: number;
  /**
   * Held tasks a frozen victim finished itself after thawing, its lease never taken: on SQLite and
   * the file store a worker frozen inside a write holds the one write lock, so nobody can recover
   * its leases first. Not a take-over, not a fault (the task ran once). Expected 0 on PostgreSQL.
   */
  resumedByHolder: number;
  /** Of those, tasks that had a later attempt anyway (then the holder's ending should have been refused): must be 0. */
  resumedNotLast: number;
  /** Seconds from a SIGKILL until a newer attempt started each task the victim was running. */
  recovery: number[];
  /** The same after a SIGSTOP. */
  recoveryFrozen: number[];
  /** How long a SIGSTOP lasted. */
  freezeMs: number;
  /** Seconds from the start of the PostgreSQL restart until a task was claimed and started again. */
  restartResume: number | null;
  restartSkipped: string | null;
  seconds: number;
  leaseMs: number;
}
