/**
 * Collects items and writes them in one call: when `maxSize` items wait, or
 * `delayMs` after the first one arrived. Flushes run one at a time, in the
 * order items were added, so a later flush never overtakes an earlier one
 * (logs stay in order; a task's "running" mark lands before its completion).
 */
export class Batcher<I, O> {
  #items: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly maxSize: number,
    private readonly delayMs: number,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#items.push({ item, resolve, reject });
      if (this.#items.length >= this.maxSize) void this.flush();
      else this.#timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  /** Writes what waits now; resolves when every earlier flush has finished too. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#items;
    this.#items = [];
    if (batch.length > 0) {
      this.#chain = this.#chain.then(async () => {
        try {
          const out = await this.write(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(out[i] as O));
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      });
    }
    return this.#chain;
  }

  /**
   * Takes back an item not yet flushed, settling its promise with `result`
   * without writing it. False when it was already on its way.
   */
  withdraw(item: I, result: O): boolean {
    const index = this.#items.findIndex((i) => i.item === item);
    if (index < 0) return false;
    this.#items.splice(index, 1)[0]!.resolve(result);
    return true;
  }

  get size(): number {
    return this.#items.length;
  }
}
