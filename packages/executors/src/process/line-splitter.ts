/**
 * Splits a byte stream into lines as chunks arrive, keeping at most `maxBytes`
 * of any one line in memory: a 50 MB line without a newline costs `maxBytes`,
 * not 50 MB. `onLine` gets the kept text and how many bytes were cut off.
 */
export class LineSplitter {
  readonly #maxBytes: number;
  readonly #onLine: (line: string, droppedBytes: number) => void;
  #parts: Buffer[] = [];
  #kept = 0;
  #dropped = 0;

  constructor(maxBytes: number, onLine: (line: string, droppedBytes: number) => void) {
    this.#maxBytes = maxBytes;
    this.#onLine = onLine;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) {
        this.#keep(chunk, start, chunk.length);
        return;
      }
      this.#keep(chunk, start, newline);
      this.#emit();
      start = newline + 1;
    }
  }

  /** Emits a last line that had no newline. */
  end(): void {
    if (this.#kept > 0 || this.#dropped > 0) this.#emit();
  }

  #keep(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    const room = this.#maxBytes - this.#kept;
    const take = Math.min(room, to - from);
    // Copy: a subarray would pin the whole (possibly 64 KiB) chunk in memory.
    if (take > 0) this.#parts.push(Buffer.from(chunk.subarray(from, from + take)));
    this.#kept += take;
    this.#dropped += to - from - take;
  }

  #emit(): void {
    let line = Buffer.concat(this.#parts, this.#kept).toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const dropped = this.#dropped;
    this.#parts = [];
    this.#kept = 0;
    this.#dropped = 0;
    this.#onLine(line, dropped);
  }
}
