import type { MarkOutcome, RunningMark } from '../store.js';
import type { Attempt } from './attempt.js';
import { DueTimer } from './due-timer.js';

export interface RunStartsOptions {
  write: (items: RunningMark[]) => Promise<MarkOutcome[]>;
  delayMs: number;
  /** What the store answered for an attempt's mark. */
  written: (attempt: Attempt, outcome: MarkOutcome) => void;
  /** The write failed: nothing lasting is lost, the attempts' endings start their runs. */
  failed: (error: unknown) => void;
}

/**
 * The run starts a claim left to the worker (ClaimOptions.deferRunStart): a
 * "running" mark for each attempt whose run was still pending, written only
 * if the attempt is still running `delayMs` after the first of them waited.
 * Most short tasks end first and drop their mark; their finish starts the run
 * in the same write that ends it. It costs a Map entry per attempt and a
 * timer per wait: a Batcher would cost three promises per attempt (its add,
 * then and catch), for marks that are nearly all dropped.
 */
export class RunStarts {
  readonly #o: RunStartsOptions;
  readonly #waiting = new Map<string, Attempt>();
  /** Marks on their way, by task id: an ending waits for its task's before it is written. */
  readonly #writing = new Map<string, Promise<void>>();
  readonly #due: DueTimer;

  constructor(options: RunStartsOptions) {
    this.#o = options;
    this.#due = new DueTimer(options.delayMs, () => this.#write());
  }

  add(attempt: Attempt): void {
    this.#waiting.set(attempt.lease.taskId, attempt);
    // One more event-loop turn after the delay (DueTimer): attempts due to start on the
    // shared setImmediate (attempt.ts) run, and end, before their marks are taken.
    this.#due.arm();
  }

  /** The attempt ended: its mark is dropped if it still waits; answers its write if that is on its way. */
  drop(taskId: string): Promise<void> | undefined {
    if (!this.#waiting.delete(taskId)) return this.#writing.get(taskId);
    // Nothing left waiting: the timer must not cut the next attempts' wait short.
    if (this.#waiting.size === 0) this.#due.cancel();
    return undefined;
  }

  #write(): void {
    this.#due.cancel();
    const attempts = [...this.#waiting.values()];
    this.#waiting.clear();
    if (attempts.length === 0) return;
    // The claim leased them running and recorded their start: the mark carries no time of its own.
    const written = this.#o
      .write(attempts.map((a) => a.lease))
      .then(
        (outcomes) => outcomes.forEach((outcome, i) => this.#o.written(attempts[i]!, outcome)),
        (error) => this.#o.failed(error),
      )
      .finally(() => {
        for (const a of attempts) this.#writing.delete(a.lease.taskId);
      });
    for (const a of attempts) this.#writing.set(a.lease.taskId, written);
  }
}
