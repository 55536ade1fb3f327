import { describe, expect, it } from 'vitest';
import { CancelledError, ConflictError, ERROR_CODES, NotFoundError, ShutdownError, ValidationError, isClientError } from '@baton/core';

describe('errors: codes of their own', () => {
  it('a cancelled run and a stopping worker are not client errors (a host must not answer them 409)', () => {
    expect(isClientError(new CancelledError())).toBe(false);
    expect(isClientError(new CancelledError('cancelled by the operator'))).toBe(false);
    expect(isClientError(new ShutdownError())).toBe(false);
  });

  it('each has its own stable code, listed in ERROR_CODES', () => {
    expect(new CancelledError().code).toBe('CANCELLED');
    expect(new ShutdownError().code).toBe('SHUTDOWN');
    expect(ERROR_CODES).toContain('CANCELLED');
    expect(ERROR_CODES).toContain('SHUTDOWN');
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it('caller mistakes stay client errors', () => {
    expect(isClientError(new ConflictError('run', 'already finished'))).toBe(true);
    expect(isClientError(new NotFoundError('run', 'r1'))).toBe(true);
    expect(isClientError(new ValidationError('input', [{ path: 'x', message: 'must be a number' }]))).toBe(true);
  });
});
