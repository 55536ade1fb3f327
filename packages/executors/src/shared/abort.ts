import { ExecutorError } from '@baton/core';

/**
 * The error an executor throws once `ctx.signal` aborted and its work is
 * cleaned up: the signal's own reason when it is an Error (the scheduler put a
 * TimeoutError or a cancellation there), so the scheduler can tell why.
 */
export function abortError(executor: string, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new ExecutorError(executor, `aborted${reason === undefined ? '' : `: ${String(reason)}`}`);
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
