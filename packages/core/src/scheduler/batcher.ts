import { DueTimer } from './due-timer.js';

interface Entry<I, O> {
  item: I;
  seq: number;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Collects items and writes them in one call, one write at a time, in the
 * order they were added (logs stay in order; a task's "running" mark lands
 * before its completion).
 *
 * A write starts when `maxSize` items wait, or `delayMs` after the first one
 * arrived and one more event-loop turn: handlers start on a shared
 * setImmediate (attempt.ts), so those already due to start join the write
 * their ends would otherwise miss. Without that turn the 2 ms timer of the
 * endings' batcher fired between one claim's handlers and the next's, and
 * SQLite's finish batches halved (20,000 no-op tasks: 200 writes of 100 before
 * the handler yield, 400 of 50 with it). While a write is in flight nothing else starts: what arrives meanwhile
 * is written together the moment it ends (group commit). Under load, batches
 * grow to match the store's pace instead of queueing up behind each other.
 */
export class Batcher<I, O> {
  #items: Entry<I, O>[] = [];
  readonly #due: DueTimer;
  #writing: Promise<void> | undefined;
  /** Sequence number of the first item of the write in flight. */
  #writingFrom = 0;
  #added = 0;

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly maxSize: number,
    delayMs: number,
  ) {
    this.#due = new DueTimer(delayMs, () => this.#start());
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#items.push({ item, seq: ++this.#added, resolve, reject });
      // A write in flight picks these up when it ends.
      if (this.#writing) return;
      if (this.#items.length >= this.maxSize) this.#start();
      else this.#due.arm();
    });
  }

  /** Writes what waits now; resolves once every item added so far is written (or failed). */
  async flush(): Promise<void> {
    const target = this.#added;
    for (;;) {
      const waiting = this.#items.length > 0 && this.#items[0]!.seq <= target;
      const inFlight = this.#writing !== undefined && this.#writingFrom <= target;
      if (!waiting && !inFlight) return;
      this.#start();
      await this.#writing;
    }
  }

  /**
   * Takes back an item not yet on its way, settling its promise with `result`
   * without writing it. False when it was already on its way.
   */
  withdraw(item: I, result: O): boolean {
    const index = this.#items.findIndex((i) => i.item === item);
    if (index < 0) return false;
    this.#items.splice(index, 1)[0]!.resolve(result);
    // Nothing left waiting: the timer the withdrawn items started must not cut the next items'
    // wait short (left running, it fired ~6 ms into the next items' 10 ms and wrote marks of
    // tasks that would have ended first: 3 writes of 500 in 10 batches of single-task runs).
    if (this.#items.length === 0) this.#due.cancel();
    return true;
  }

  #start(): void {
    this.#due.cancel();
    if (this.#writing || this.#items.length === 0) return;
    const batch = this.#items.splice(0, this.maxSize);
    this.#writingFrom = batch[0]!.seq;
    this.#writing = this.#writeBatch(batch).finally(() => {
      this.#writing = undefined;
      if (this.#items.length > 0) this.#start();
    });
  }

  async #writeBatch(batch: Entry<I, O>[]): Promise<void> {
    try {
      const out = await this.write(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(out[i] as O));
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  }
}
