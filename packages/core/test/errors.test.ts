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

describe('errors: a validation error of many issues', () => {
  it('spells out the first ten in its message and keeps every one in issues', () => {
    const issues = Array.from({ length: 1000 }, (_, i) => ({
      path: `${i}.taskId`,
      message: 'Invalid input: expected string, received undefined',
    }));
    const error = new ValidationError('task results', issues);
    expect(error.issues).toHaveLength(1000);
    expect(error.field).toBe('0.taskId');
    expect(error.message).toContain('invalid task results: 0.taskId: Invalid input');
    expect(error.message).toContain('9.taskId');
    expect(error.message).not.toContain('10.taskId');
    expect(error.message.endsWith('; and 990 more (see issues)')).toBe(true);
    expect(error.message.length).toBeLessThan(1000);
  });

  it('spells out all of a few', () => {
    const error = new ValidationError('input', [
      { path: 'a', message: 'must be a number' },
      { path: '', message: 'must be an object' },
    ]);
    expect(error.message).toBe('invalid input: a: must be a number; must be an object');
  });
});
