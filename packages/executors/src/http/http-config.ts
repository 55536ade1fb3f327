import {
  fail,
  optionalHttpUrl,
  optionalInt,
  optionalOneOf,
  optionalStringRecord,
  rejectUnknown,
  type StepConfig,
} from '../shared/config-fields.js';

export const HTTP_METHODS = ['POST', 'PUT', 'PATCH'] as const;

/**
 * An http step's `config`.
 *
 * @example
 * { url: 'https://api.example.com/tasks', headersFromConfig: { Authorization: 'example.auth' }, timeoutMs: 10000 }
 */
export interface HttpStepConfig {
  url: string;
  /** @defaultValue 'POST' */
  method?: (typeof HTTP_METHODS)[number];
  /** Plain headers. Use `headersFromConfig` for secrets. */
  headers?: Record<string, string>;
  /** Headers whose values are read from the config store: `{ Authorization: 'service.auth' }`. */
  headersFromConfig?: Record<string, string>;
  /** Per-request timeout; overrides the executor's. */
  timeoutMs?: number;
}

export const HTTP_CONFIG_FIELDS = ['url', 'method', 'headers', 'headersFromConfig', 'timeoutMs'] as const;

export function parseHttpConfig(config: StepConfig): HttpStepConfig {
  const what = 'http step config';
  rejectUnknown(what, config, HTTP_CONFIG_FIELDS);
  const url = optionalHttpUrl(what, config, 'url');
  if (url === undefined) fail(what, 'url', 'is required');
  const parsed: HttpStepConfig = {
    url,
    method: optionalOneOf(what, config, 'method', HTTP_METHODS),
    headers: optionalStringRecord(what, config, 'headers'),
    headersFromConfig: optionalStringRecord(what, config, 'headersFromConfig'),
    timeoutMs: optionalInt(what, config, 'timeoutMs', 1, 86_400_000),
  };
  for (const field of ['headers', 'headersFromConfig'] as const) {
    for (const name of Object.keys(parsed[field] ?? {})) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) fail(what, `${field}.${name}`, 'is not a valid header name');
    }
  }
  return parsed;
}
