/**
 * An attempt's abort switch: what `ctx.signal` reports, made only when asked for.
 *
 * Node's AbortController is an EventTarget: making one, and adding and removing
 * the scheduler's own listener, cost ~8 µs a task (CPU profile of 20,000 no-op
 * tasks on SQLite: 160 ms of 2,100), while most handlers never read
 * `ctx.signal`. So the controller is created on the first read of `signal`
 * (already aborted if the switch was), and the scheduler listens here instead.
 */
export class AbortSwitch {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #listener: (() => void) | undefined;

  /** The signal a handler or executor sees; aborts with this switch. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** Aborts once: later calls keep the first reason, as AbortController does. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }

  /**
   * Calls `listener` once, when the switch aborts (at once if it has). One
   * listener at a time: the scheduler's wait for the executor. Returns what
   * removes it.
   */
  onAbort(listener: () => void): () => void {
    if (this.#aborted) {
      listener();
      return () => {};
    }
    this.#listener = listener;
    return () => {
      if (this.#listener === listener) this.#listener = undefined;
    };
  }
}
