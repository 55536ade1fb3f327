import { stripVTControlCharacters } from 'node:util';
import pc from 'picocolors';
import type { LogType } from '@baton/core';

type Colors = ReturnType<typeof pc.createColors>;

/**
 * What goes to the terminal and how. Tables and colours only when stdout is a
 * TTY; `NO_COLOR` (any value, https://no-color.org) turns colours off, and
 * `FORCE_COLOR` turns them on for a pipe. Off a TTY, listings are one
 * tab-separated line per item, no header: ready for `cut`, `awk` and `grep`.
 */
export class Output {
  readonly tty: boolean;
  readonly c: Colors;

  constructor(
    readonly stdout: NodeJS.WriteStream = process.stdout,
    readonly stderr: NodeJS.WriteStream = process.stderr,
    env: NodeJS.ProcessEnv = process.env,
    noColorFlag = false,
  ) {
    this.tty = stdout.isTTY === true;
    const noColor = noColorFlag || (env.NO_COLOR !== undefined && env.NO_COLOR !== '');
    const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
    this.c = pc.createColors(!noColor && (this.tty || force));
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  /** Progress and notes for a person: stderr, so stdout stays clean for pipes. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON value per line (`--follow --json`). */
  jsonLine(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Aligned columns with a dim header on a TTY; tab-separated lines without header otherwise. */
  table(headers: string[], rows: string[][]): void {
    if (!this.tty) {
      for (const row of rows) this.line(row.map((cell) => stripVTControlCharacters(cell).replace(/[\t\n]/g, ' ')).join('\t'));
      return;
    }
    if (rows.length === 0) return;
    const width = (s: string) => stripVTControlCharacters(s).length;
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => width(r[i] ?? ''))));
    const pad = (cells: string[]) =>
      cells.map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell)))).join('  ');
    this.line(this.c.dim(pad(headers)));
    for (const row of rows) this.line(pad(row));
  }

  /** A status word in its colour: green success, red failures, yellow in flight, dim waiting. */
  status(status: string): string {
    const { c } = this;
    switch (status) {
      case 'success':
      case 'active':
        return c.green(status);
      case 'failed':
      case 'timeout':
        return c.red(status);
      case 'cancelled':
      case 'archived':
        return c.magenta(status);
      case 'running':
      case 'dispatched':
      case 'paused':
        return c.yellow(status);
      case 'pending':
        return c.cyan(status);
      default:
        return c.dim(status);
    }
  }

  /** A log type coloured as Microlight's UI colours it: info blue, warn yellow, danger and error red, success green. */
  logType(type: LogType, text: string = type): string {
    const { c } = this;
    switch (type) {
      case 'info':
        return c.blue(text);
      case 'warn':
        return c.yellow(text);
      case 'danger':
      case 'error':
        return c.red(text);
      case 'success':
        return c.green(text);
      case 'json':
      case 'markdown':
        return c.cyan(text);
      default:
        return text;
    }
  }
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

/** Local time for a person on a TTY; ISO 8601 UTC elsewhere. */
export function formatTime(date: Date | null, tty: boolean): string {
  if (!date) return '-';
  if (!tty) return date.toISOString();
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** First line, cut to `max` characters: errors in tables. */
export function oneLine(text: string | null, max = 80): string {
  if (!text) return '';
  const first = text.split('\n', 1)[0]!;
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}
