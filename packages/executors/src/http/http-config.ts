import { z } from 'zod';
import { httpUrl, intFrom, issue, oneOf, parseConfig, stringRecord, type StepConfig } from '../shared/config-schema.js';

const HTTP_METHODS = ['POST', 'PUT', 'PATCH'] as const;

/**
 * An http step's `config`.
 *
 * @example
 * { url: 'https://api.example.com/tasks', headersFromConfig: { Authorization: 'example.auth' }, timeoutMs: 10000 }
 */
const httpStepConfig = z
  .object({
    url: httpUrl,
    /** @defaultValue 'POST' */
    method: oneOf(HTTP_METHODS).optional(),
    /** Plain headers. Use `headersFromConfig` for secrets. */
    headers: stringRecord.optional(),
    /** Headers whose values are read from the config store: `{ Authorization: 'service.auth' }`. */
    headersFromConfig: stringRecord.optional(),
    /** Per-request timeout; overrides the executor's. */
    timeoutMs: intFrom(1, 86_400_000).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const field of ['headers', 'headersFromConfig'] as const) {
      for (const name of Object.keys(c[field] ?? {})) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) issue(ctx, [field, name], 'is not a valid header name');
      }
    }
  });

export type HttpStepConfig = z.output<typeof httpStepConfig>;

export function parseHttpConfig(config: StepConfig): HttpStepConfig {
  return parseConfig(httpStepConfig, config, 'http step config');
}
