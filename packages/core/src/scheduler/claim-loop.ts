import type { ClaimedTask, Lease, Store } from '../store.js';

export interface ClaimLoopOptions {
  store: Store;
  workerId: string;
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  /** Claim only these workflows (ids), when given. */
  workflowIds?: () => string[] | undefined;
  /** How many tasks the next claim may take. */
  free: () => number;
  /** Whether any task is in flight here (whose ending would free a slot). */
  busy: () => boolean;
  /** Workflows the next claim must skip (their per-process limit is full). */
  saturatedWorkflows: () => string[];
  /** Starts a claimed task; false when it was not admitted (the loop releases it). */
  start: (claimed: ClaimedTask) => boolean;
  /** This claim started the task's run (the store's answer): called before the task starts or is released. */
  runStarted: (claimed: ClaimedTask) => void;
  release: (leases: Lease[]) => Promise<void>;
  emitError: (error: unknown) => void;
  log: (level: 'warn' | 'error', message: string, error?: unknown) => void;
}

/**
 * Claims what there is room for, then sleeps until the poll interval passes or
 * something wakes it (a trigger, a dependent made ready, a NOTIFY, a task
 * ending); backs off while the store fails.
 */
export class ClaimLoop {
  readonly #o: ClaimLoopOptions;
  #stopping = false;
  #wake: (() => void) | undefined;
  #wokenEarly = false;
  #loop: Promise<void> | undefined;
  /** Claims that failed in a row: the loop backs off while the store is unavailable. */
  #claimFailures = 0;

  constructor(options: ClaimLoopOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stopping = false;
    this.#loop = this.#run();
  }

  /** Stops claiming; resolves when the loop has ended (a claim in flight is finished and its tasks started or released). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
  }

  /** Claims now. */
  wake(): void {
    // A wake-up that comes while the loop is claiming must not be lost: the next sleep returns at once.
    if (this.#wake) this.#wake();
    else this.#wokenEarly = true;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      // A task whose end is still being written no longer takes a slot: the next claim
      // overlaps that write, so the store is never idle between batches.
      const free = this.#o.free();
      if (free > 0) {
        const claimed = await this.#claim(free);
        const release: Lease[] = [];
        for (const c of claimed) {
          // The run started with the claim, even if this task is released now: said once, here.
          if (c.runStarted) this.#o.runStarted(c);
          if (this.#stopping || !this.#o.start(c)) release.push({ taskId: c.task.id, leaseId: c.task.leaseId! });
        }
        if (release.length > 0) await this.#o.release(release);
        // A full batch means more may wait: claim again at once.
        if (claimed.length === free && release.length === 0) continue;
      }
      if (this.#stopping) break;
      await this.#sleep(this.#claimFailures > 0 ? this.#backoffMs() : this.#o.pollIntervalMs);
      await this.#gatherSlots();
    }
  }

  async #claim(limit: number): Promise<ClaimedTask[]> {
    try {
      const claimed = await this.#o.store.claimTasks({
        workerId: this.#o.workerId,
        limit,
        leaseMs: this.#o.leaseMs,
        // Every task claimed starts at once: the claim marks it running. Its run is marked
        // started only if the task outlives a short delay (attempt.ts, RUN_START_DELAY_MS).
        running: true,
        deferRunStart: true,
        ...(this.#o.workflowIds?.() && { workflowIds: this.#o.workflowIds()! }),
        excludeWorkflowIds: this.#o.saturatedWorkflows(),
      });
      this.#claimFailures = 0;
      return claimed;
    } catch (error) {
      this.#claimFailures++;
      this.#o.emitError(error);
      this.#o.log('warn', `claim failed; retrying in ${this.#backoffMs()} ms`, error);
      return [];
    }
  }

  /**
   * Slots free up one task at a time; claiming each alone would cost a
   * transaction per task. Wait, woken by each task that ends, until a quarter
   * of the slots are free or 2 ms have passed, so a claim fills several at once
   * without ever leaving free slots unclaimed for long.
   */
  async #gatherSlots(): Promise<void> {
    const enough = Math.max(1, Math.floor(this.#o.concurrency / 4));
    const deadline = performance.now() + 2;
    while (!this.#stopping && this.#o.busy() && this.#o.free() < enough) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await this.#sleep(left);
    }
  }

  /**
   * After failed claims (a dropped connection, a restarting database, SQLite
   * busy past its timeout): 100 ms, doubling to 5 s, so a store that is down
   * is not hammered and one that is back is used again within a second or two.
   * A wake-up (the LISTEN connection restored) cuts the wait short.
   */
  #backoffMs(): number {
    return Math.min(100 * 2 ** Math.min(this.#claimFailures - 1, 6), 5000);
  }

  /** Resolves after `ms`, or at once when woken. */
  #sleep(ms: number): Promise<void> {
    if (this.#wokenEarly) {
      this.#wokenEarly = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}
