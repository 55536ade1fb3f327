import { ValidationError, type Json } from '@baton/core';

/**
 * Small readers for a step's `config`: each returns the typed value or throws
 * a ValidationError whose path is the offending field, so that a bad workflow
 * is refused when it is defined, not when its first task runs.
 */

export type StepConfig = { [key: string]: Json };

export function fail(what: string, field: string, message: string): never {
  throw new ValidationError(what, [{ path: field, message }]);
}

export function rejectUnknown(what: string, config: StepConfig, known: readonly string[]): void {
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) fail(what, key, `unknown field (known: ${known.join(', ')})`);
  }
}

export function optionalString(what: string, config: StepConfig, field: string): string | undefined {
  const value = config[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) fail(what, field, 'must be a non-empty string');
  return value;
}

export function requiredString(what: string, config: StepConfig, field: string): string {
  const value = optionalString(what, config, field);
  if (value === undefined) fail(what, field, 'is required');
  return value;
}

export function optionalBoolean(what: string, config: StepConfig, field: string): boolean | undefined {
  const value = config[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(what, field, 'must be a boolean');
  return value;
}

export function optionalInt(what: string, config: StepConfig, field: string, min: number, max: number): number | undefined {
  const value = config[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(what, field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function optionalNumber(what: string, config: StepConfig, field: string, min: number, max: number): number | undefined {
  const value = config[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(what, field, `must be a number from ${min} to ${max}`);
  }
  return value;
}

export function optionalStringArray(what: string, config: StepConfig, field: string): string[] | undefined {
  const value = config[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) fail(what, field, 'must be an array of strings');
  value.forEach((item, i) => {
    if (typeof item !== 'string') fail(what, `${field}.${i}`, 'must be a string');
  });
  return value as string[];
}

export function optionalStringRecord(what: string, config: StepConfig, field: string): Record<string, string> | undefined {
  const value = config[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(what, field, 'must be an object of strings');
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') fail(what, `${field}.${key}`, 'must be a string');
  }
  return value as Record<string, string>;
}

export function optionalOneOf<const T extends readonly string[]>(
  what: string,
  config: StepConfig,
  field: string,
  values: T,
): T[number] | undefined {
  const value = config[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !values.includes(value)) fail(what, field, `must be one of ${values.join(', ')}`);
  return value;
}

export function optionalHttpUrl(what: string, config: StepConfig, field: string): string | undefined {
  const value = optionalString(what, config, field);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(what, field, 'must be an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(what, field, 'must be an http: or https: URL');
  return value;
}
