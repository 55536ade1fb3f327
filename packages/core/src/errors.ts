/**
 * One base error with a stable `code`, one subclass per condition, shared by
 * the scheduler and every store so that hosts handle them the same way.
 */

export const ERROR_CODES = [
  'NOT_FOUND',
  'CONFLICT',
  'INVALID_INPUT',
  'INVALID_DEFINITION',
  'LEASE_LOST',
  'STORE_CLOSED',
  'STORE_UNAVAILABLE',
  'CORRUPT_DATA',
  'EXECUTOR',
  'TIMEOUT',
  'SCHEMA_VERSION',
  'CANCELLED',
  'SHUTDOWN',
] as const;
export type BatonErrorCode = (typeof ERROR_CODES)[number];

export class BatonError extends Error {
  readonly code: BatonErrorCode;
  constructor(code: BatonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A record looked up by id or key does not exist. */
export class NotFoundError extends BatonError {
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super('NOT_FOUND', `${entity} not found: ${id}`);
  }
}

/** A write would break a uniqueness or state rule (a duplicate name, a finished run). */
export class ConflictError extends BatonError {
  constructor(
    readonly entity: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('CONFLICT', `${entity}: ${message}`, options);
  }
}

/** A run cannot be retried: it is not finished, it succeeded, or nothing of it failed. */
export class RetryRefusedError extends ConflictError {
  constructor(
    readonly runId: string,
    readonly reason: string,
  ) {
    super('run', `${runId} cannot be retried: ${reason}`);
  }
}

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `steps.1.timeoutMs`. */
  path: string;
  message: string;
}

/**
 * How many issues a ValidationError's message spells out; `issues` keeps them
 * all. A batch of 500 task results without lease ids had a message of ~1,000
 * issues (~85 KB) going into logs and HTTP answers.
 */
const ISSUES_IN_MESSAGE = 10;

/** An input failed validation; `issues` names every offending field, the message the first ten. */
export class ValidationError extends BatonError {
  readonly field: string;
  constructor(
    readonly what: string,
    readonly issues: FieldIssue[],
  ) {
    const shown = issues.slice(0, ISSUES_IN_MESSAGE).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    const more = issues.length - shown.length;
    super('INVALID_INPUT', `invalid ${what}: ${shown.join('; ')}${more > 0 ? `; and ${more} more (see issues)` : ''}`);
    this.field = issues[0]?.path ?? '';
  }

  /** The same issues under `prefix` (`items.3`): how a call of many items names the one that was wrong. */
  under(prefix: string, what = this.what): ValidationError {
    return new ValidationError(
      what,
      this.issues.map((issue) => ({ ...issue, path: issue.path ? `${prefix}.${issue.path}` : prefix })),
    );
  }
}

/** A workflow definition is not runnable: a cycle, a missing dependency, an unknown executor, a bad cron. */
export class DefinitionError extends BatonError {
  constructor(
    readonly workflow: string,
    readonly path: string,
    message: string,
  ) {
    super('INVALID_DEFINITION', `workflow "${workflow}" ${path}: ${message}`);
  }
}

/** A worker tried to act on a task whose lease it no longer holds. */
export class LeaseLostError extends BatonError {
  constructor(
    readonly taskId: string,
    readonly leaseId: string,
  ) {
    super('LEASE_LOST', `lease ${leaseId} on task ${taskId} is no longer held`);
  }
}

export class StoreClosedError extends BatonError {
  constructor() {
    super('STORE_CLOSED', 'the store is closed');
  }
}

/**
 * The store could not be reached or gave up waiting: a dropped connection, a
 * database restarting, a lock held too long. Nothing was written by the failed
 * call (or, for a write whose commit was in flight, it may have been: every
 * scheduler write is fenced, so repeating it is safe). The scheduler backs off
 * and tries again; a host may do the same.
 */
export class StoreUnavailableError extends BatonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', `store unavailable: ${message}`, options);
  }
}

/** Stored data cannot be read: a corrupt or hand-edited file, a row that fails to parse. */
export class CorruptDataError extends BatonError {
  constructor(
    readonly location: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('CORRUPT_DATA', `corrupt data in ${location}: ${message}`, options);
  }
}

/** An executor failed in a way worth telling apart from the task's own error. */
export class ExecutorError extends BatonError {
  constructor(
    readonly executor: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('EXECUTOR', `${executor}: ${message}`, options);
  }
}

/**
 * Why a task's signal aborted: its run was cancelled. Not a client error: the
 * handler that sees it did nothing wrong (its task is recorded `cancelled`).
 */
export class CancelledError extends BatonError {
  constructor(reason = 'run cancelled') {
    super('CANCELLED', reason);
  }
}

/**
 * Why a task's signal aborted: its worker is stopping (the task is released,
 * not ended, and runs again elsewhere). Not a client error either.
 */
export class ShutdownError extends BatonError {
  constructor() {
    super('SHUTDOWN', 'worker shutting down');
  }
}

/** An attempt ran past its timeout. */
export class TimeoutError extends BatonError {
  constructor(readonly timeoutMs: number) {
    super('TIMEOUT', `timed out after ${timeoutMs} ms`);
  }
}

/**
 * A store's schema is not the one this Baton expects: migrated by a newer
 * Baton (`unknown` names the migrations it does not know), or not migrated yet
 * after opening with `migrate: false` (`pending` names what is missing).
 * Nothing was written.
 */
export class SchemaVersionError extends BatonError {
  constructor(
    readonly location: string,
    readonly unknown: string[],
    readonly pending: string[],
  ) {
    super(
      'SCHEMA_VERSION',
      unknown.length > 0
        ? `${location} was migrated by a newer Baton (migrations this version does not know: ${unknown.join(', ')}); upgrade Baton to open it`
        : `${location} is not migrated (pending: ${pending.join(', ')}); open it with migrate: true or call store.migrate() first`,
    );
  }
}

/** Errors the caller caused (bad input, unknown ids, conflicts), as opposed to faults. */
export function isClientError(error: unknown): boolean {
  return (
    error instanceof BatonError &&
    (error.code === 'NOT_FOUND' || error.code === 'CONFLICT' || error.code === 'INVALID_INPUT' || error.code === 'INVALID_DEFINITION')
  );
}
