import type { Json, TaskContext } from '@baton/core';
import { LineSplitter } from './line-splitter.js';

/**
 * The stdout line that carries a task's result: `::baton-result:: <json>`.
 * The last such line wins; it is not logged.
 */
export const RESULT_MARKER = '::baton-result::';

export interface OutputLimits {
  /** Longest line logged; longer lines are cut and marked. */
  maxLineBytes: number;
  /** Total bytes of output logged per attempt; later lines are counted, not logged. */
  maxLogBytes: number;
  /** Longest result line. */
  maxResultBytes: number;
  /** How much of the end of stderr a failure message quotes. */
  stderrTailBytes: number;
}

/**
 * Turns a child's stdout and stderr into log lines as they arrive, picks the
 * result line out of stdout and keeps the tail of stderr for the error
 * message, all within fixed memory whatever the child prints.
 */
export class OutputCollector {
  readonly stdout: LineSplitter;
  readonly stderr: LineSplitter;
  result: { value: Json } | undefined;
  resultError: string | undefined;
  readonly #ctx: Pick<TaskContext, 'log' | 'error' | 'warn'>;
  readonly #limits: OutputLimits;
  #logged = 0;
  #unloggedLines = 0;
  #unloggedBytes = 0;
  #tail: string[] = [];
  #tailBytes = 0;

  constructor(ctx: Pick<TaskContext, 'log' | 'error' | 'warn'>, limits: OutputLimits) {
    this.#ctx = ctx;
    this.#limits = limits;
    this.stdout = new LineSplitter(Math.max(limits.maxLineBytes, limits.maxResultBytes), (line, dropped) => this.#onStdout(line, dropped));
    this.stderr = new LineSplitter(limits.maxLineBytes, (line, dropped) => this.#onStderr(line, dropped));
  }

  /** The last lines of stderr, at most `stderrTailBytes`. */
  stderrTail(): string {
    return this.#tail.join('\n');
  }

  /** Flushes partial lines and reports what the log budget left out. */
  finish(): void {
    this.stdout.end();
    this.stderr.end();
    if (this.#unloggedLines > 0) {
      this.#ctx.warn(
        `${this.#unloggedLines} output lines (${this.#unloggedBytes} bytes) were not logged: the attempt passed maxLogBytes (${this.#limits.maxLogBytes})`,
      );
    }
  }

  #onStdout(line: string, dropped: number): void {
    if (line.startsWith(RESULT_MARKER)) {
      if (dropped > 0) {
        this.resultError = `the ${RESULT_MARKER} line is longer than maxResultBytes (${this.#limits.maxResultBytes})`;
        return;
      }
      try {
        this.result = { value: JSON.parse(line.slice(RESULT_MARKER.length)) as Json };
        this.resultError = undefined;
      } catch (error) {
        this.resultError = `the ${RESULT_MARKER} line is not valid JSON (${(error as Error).message})`;
      }
      return;
    }
    this.#emit('log', line, dropped);
  }

  #onStderr(line: string, dropped: number): void {
    this.#remember(line);
    this.#emit('error', line, dropped);
  }

  #emit(type: 'log' | 'error', line: string, dropped: number): void {
    const { text, cut } = clip(line, this.#limits.maxLineBytes);
    const bytes = Buffer.byteLength(text);
    if (this.#logged + bytes > this.#limits.maxLogBytes) {
      this.#unloggedLines++;
      this.#unloggedBytes += bytes + cut + dropped;
      return;
    }
    this.#logged += bytes;
    const lost = cut + dropped;
    this.#ctx[type](lost > 0 ? `${text}… [${lost} more bytes]` : text);
  }

  #remember(line: string): void {
    const { text } = clip(line, this.#limits.stderrTailBytes);
    this.#tail.push(text);
    this.#tailBytes += Buffer.byteLength(text) + 1;
    while (this.#tailBytes > this.#limits.stderrTailBytes && this.#tail.length > 1) {
      this.#tailBytes -= Buffer.byteLength(this.#tail.shift()!) + 1;
    }
  }
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes; returns how many bytes were cut. */
function clip(text: string, maxBytes: number): { text: string; cut: number } {
  // Characters never outnumber bytes: short strings need no byte count.
  if (text.length <= maxBytes / 4) return { text, cut: 0 };
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return { text, cut: 0 };
  return {
    text: bytes
      .subarray(0, maxBytes)
      .toString('utf8')
      .replace(/\uFFFD$/, ''),
    cut: bytes.length - maxBytes,
  };
}
