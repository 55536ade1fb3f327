import { CancelledError, LeaseLostError } from '../errors.js';
import type { Lease, Store } from '../store.js';
import type { AbortSwitch } from './abort.js';

/** What holds a lease here: an attempt in flight, aborted through its switch. */
export interface Held {
  lease: Lease;
  abort: AbortSwitch;
}

export interface LeasesOptions {
  store: Store;
  leaseMs: number;
  heartbeatMs: number;
  recoverIntervalMs: number;
  /** Wakes the claim loop: recovery put tasks back in the queue. */
  wake: () => void;
  emitError: (error: unknown) => void;
  log: (level: 'warn' | 'error', message: string, error?: unknown) => void;
}

/**
 * The leases this worker holds, one per attempt in flight (executing, or its
 * end being written): renewed by a heartbeat, given back on release; and the
 * periodic recovery of every worker's expired leases (a crashed worker's tasks).
 */
export class Leases<A extends Held = Held> {
  /** Attempts in flight here, by task id. */
  readonly held = new Map<string, A>();
  readonly #o: LeasesOptions;
  #timers: NodeJS.Timeout[] = [];
  /** The heartbeat and lease recovery in flight, if any: a slow store never gets a second one stacked on it. */
  #beating: Promise<void> | undefined;
  #recovering: Promise<void> | undefined;

  constructor(options: LeasesOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timers.push(setInterval(() => void this.#beatOnce(), this.#o.heartbeatMs));
    this.#timers.push(setInterval(() => void this.#recoverOnce(), this.#o.recoverIntervalMs));
    void this.#recoverOnce();
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  /** Renews leases (all held, by default); aborts attempts whose lease was lost or whose run was cancelled. */
  async heartbeat(attempts: Held[] = [...this.held.values()]): Promise<void> {
    if (attempts.length === 0) return;
    try {
      const states = await this.#o.store.heartbeat(
        attempts.map((a) => a.lease),
        this.#o.leaseMs,
      );
      states.forEach((state, i) => {
        const attempt = attempts[i]!;
        if (state === 'lost') attempt.abort.abort(new LeaseLostError(attempt.lease.taskId, attempt.lease.leaseId));
        if (state === 'cancelled') attempt.abort.abort(new CancelledError());
      });
    } catch (error) {
      this.#o.emitError(error);
      this.#o.log('warn', 'heartbeat failed; retrying at the next beat', error);
    }
  }

  /** Gives leases back so no worker waits for their expiry; a failure is logged (`failure` says what failed), and the leases then expire. */
  async release(leases: Lease[], failure: string, level: 'warn' | 'error' = 'warn'): Promise<void> {
    if (leases.length === 0) return;
    await this.#o.store.releaseTasks(leases).catch((e) => this.#o.log(level, failure, e));
  }

  #beatOnce(): Promise<void> {
    return (this.#beating ??= this.heartbeat().finally(() => (this.#beating = undefined)));
  }

  #recoverOnce(): Promise<void> {
    return (this.#recovering ??= this.#recover().finally(() => (this.#recovering = undefined)));
  }

  async #recover(): Promise<void> {
    try {
      const recovered = await this.#o.store.recoverExpiredLeases();
      if (recovered.some((r) => r.status === 'pending')) this.#o.wake();
    } catch (error) {
      this.#o.emitError(error);
      this.#o.log('warn', 'lease recovery failed; retrying', error);
    }
  }
}
