import { ValidationError, type Json } from '@baton/core';
import { z } from 'zod';

/**
 * Building blocks for a step's `config` schema, one zod schema per executor:
 * the schema gives the config's type (`z.output`), the unknown-key check
 * (`.strict()`) and the offending field's path, so that a bad workflow is
 * refused when it is defined (a ValidationError naming the field), not when
 * its first task runs. Messages say what a field must be, as a person would.
 */

export type StepConfig = { [key: string]: Json };

/** A string that must not be empty; "is required" when missing. */
export const text = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a non-empty string') })
  .min(1, 'must be a non-empty string');

export const bool = z.boolean({ error: 'must be a boolean' });

/** A whole number in [min, max]. */
export const intFrom = (min: number, max: number) => {
  const error = `must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

export const stringList = z.array(z.string({ error: 'must be a string' }), { error: 'must be an array of strings' });

export const stringRecord = z.record(z.string(), z.string({ error: 'must be a string' }), { error: 'must be an object of strings' });

/** An absolute http: or https: URL. */
export const httpUrl = text.superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must be an http: or https: URL' });
});

/** Adds an issue at `path` (`ctx` of a `.superRefine` on the config object). */
export function issue(ctx: z.RefinementCtx, path: (string | number)[], message: string): void {
  ctx.addIssue({ code: 'custom', path, message });
}

/** Names of environment variables in `fields` that a shell would not accept. */
export function checkEnvNames(ctx: z.RefinementCtx, config: { [field: string]: unknown }, fields: string[]): void {
  for (const field of fields) {
    for (const key of Object.keys((config[field] as object | undefined) ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) issue(ctx, [field, key], 'is not a valid environment variable name');
    }
  }
}

/**
 * Parses a step's config with its schema; a bad one is a ValidationError
 * whose issues name each field (`env.A: must be a string`), an unknown key
 * with the keys the executor knows (`colour: unknown field (known: …)`).
 */
export function parseConfig<S extends z.ZodObject | z.ZodPipe<z.ZodObject>>(schema: S, config: StepConfig, what: string): z.output<S> {
  const result = schema.safeParse(config);
  if (result.success) return result.data as z.output<S>;
  const object = (schema instanceof z.ZodPipe ? schema.in : schema) as z.ZodObject;
  const known = Object.keys(object.shape).join(', ');
  throw new ValidationError(
    what,
    result.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => ({ path: [...i.path, key].join('.'), message: `unknown field (known: ${known})` }))
        : [{ path: i.path.join('.'), message: i.message }],
    ),
  );
}
