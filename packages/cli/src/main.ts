import { BatonError } from '@baton/core';
import { CommanderError } from 'commander';
import pc from 'picocolors';
import { CliError, EXIT } from './errors.js';
import { buildProgram } from './program.js';
import type { RunState } from './context.js';

/**
 * Runs the CLI on `argv` (as `process.argv`) and resolves with the exit code.
 * Every failure ends as one line on stderr, `baton: <what went wrong>`; the
 * stack only with `--debug` (or BATON_DEBUG=1).
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  const debug =
    argv.includes('--debug') ||
    (process.env.BATON_DEBUG !== undefined && process.env.BATON_DEBUG !== '' && process.env.BATON_DEBUG !== '0');
  const colors = pc.createColors(process.stderr.isTTY === true && !process.env.NO_COLOR && !argv.includes('--no-color'));
  const fail = (message: string) => process.stderr.write(`${colors.red('baton:')} ${message}\n`);
  const state: RunState = { exitCode: EXIT.ok };
  const program = buildProgram(state, (message) =>
    // "error: unknown command 'rnus'\n(Did you mean runs?)" → one line.
    fail(
      message
        .replace(/^error: /, '')
        .trim()
        .replace(/\s*\n\s*/g, ' '),
    ),
  );
  if (argv.length <= 2) {
    process.stderr.write(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv);
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander already printed its error line.
      if (error.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    fail(describe(error));
    if (debug && error instanceof Error) process.stderr.write(`${stackOf(error)}\n`);
    if (error instanceof CliError) return error.exitCode;
    if (error instanceof BatonError) return error.code === 'INVALID_INPUT' ? EXIT.usage : EXIT.error;
    return EXIT.error;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function stackOf(error: Error): string {
  let text = error.stack ?? String(error);
  let cause = error.cause;
  while (cause instanceof Error) {
    text += `\ncaused by: ${cause.stack ?? cause.message}`;
    cause = cause.cause;
  }
  return text;
}
