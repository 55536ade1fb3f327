/** Exit codes, for scripts. */
export const EXIT = {
  ok: 0,
  /** An operation failed: unknown id, a conflict, a store that cannot be opened. */
  error: 1,
  /** The command line was wrong: unknown command or option, a bad value. */
  usage: 2,
  /** `trigger --wait`: the run finished, but not with success. */
  runFailed: 3,
} as const;

/** A failure the user caused or must act on: printed as one line, no stack. */
export class CliError extends Error {
  readonly exitCode: number = EXIT.error;
}

/** A bad command line. */
export class UsageError extends CliError {
  override readonly exitCode: number = EXIT.usage;
}
