/**
 * Calls `fire` once, `delayMs` after it is armed and one more event-loop turn
 * (a setImmediate): handlers start on a shared setImmediate (attempt.ts), so
 * those already due to start run, and may end, before the write it starts
 * takes what waits. Batcher and RunStarts wait this way.
 */
export class DueTimer {
  #timer: NodeJS.Timeout | undefined;
  #turn: NodeJS.Immediate | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly fire: () => void,
  ) {}

  /** Arms the timer; an armed one keeps its time. */
  arm(): void {
    this.#timer ??= setTimeout(() => {
      this.#turn = setImmediate(() => {
        this.cancel();
        this.fire();
      });
    }, this.delayMs);
  }

  /** Disarms it (nothing happens if it is not armed). */
  cancel(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#turn);
    this.#timer = undefined;
    this.#turn = undefined;
  }
}
