import { DefinitionError, ValidationError } from './errors.js';
import type { Json } from './models.js';

/**
 * Limit keys (`concurrency: { key }`, `rateLimit: { key }`) are data, not
 * functions: a definition is stored as JSON and a run is planned by whichever
 * process triggers it (a CLI, a schedule, another host), so the key must be
 * computable there. A template covers what a function would compute in
 * practice: `'llm:{inputs.provider}'`, `'host:{params.url|host}'`.
 */
const PLACEHOLDER = /\{([^{}]*)\}/g;
const FIELD = /^(inputs|params)(\.[A-Za-z0-9_$-]+)+$/;
const FILTERS = new Set(['host']);

interface Source {
  inputs: { [key: string]: Json };
  params: { [key: string]: Json };
}

/** Throws a DefinitionError when a key template names anything but `inputs.…` / `params.…` or an unknown filter. */
export function checkKeyTemplate(workflow: string, path: string, template: string): void {
  for (const [, inner] of template.matchAll(PLACEHOLDER)) {
    const [field, ...filters] = inner!.split('|').map((s) => s.trim());
    if (!FIELD.test(field!)) {
      throw new DefinitionError(workflow, path, `key placeholder "{${inner}}" must name inputs.<field> or params.<field>`);
    }
    for (const filter of filters) {
      if (!FILTERS.has(filter))
        throw new DefinitionError(workflow, path, `unknown key filter "${filter}" in "{${inner}}" (known: ${[...FILTERS].join(', ')})`);
    }
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) throw new DefinitionError(workflow, path, `unbalanced braces in key "${template}"`);
}

/**
 * Evaluates a key template for one task. A placeholder naming a missing value
 * is a ValidationError naming the field: a task must not silently share the
 * key of every other task that lacks it.
 */
export function evaluateKey(template: string, source: Source, where: string): string {
  if (!template.includes('{')) return template;
  return template.replace(PLACEHOLDER, (_, inner: string) => {
    const [field, ...filters] = inner.split('|').map((s) => s.trim());
    let value: Json | undefined = source as unknown as Json;
    for (const part of field!.split('.')) {
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[part] : undefined;
    }
    if (value === undefined || value === null) {
      throw new ValidationError('run', [{ path: field!, message: `is needed by the limit key "${template}" of ${where}` }]);
    }
    let text = typeof value === 'string' ? value : JSON.stringify(value);
    for (const filter of filters) if (filter === 'host') text = hostOf(text, field!, where);
    return text;
  });
}

function hostOf(url: string, field: string, where: string): string {
  try {
    return new URL(url).host;
  } catch {
    throw new ValidationError('run', [
      { path: field, message: `must be a URL for the "|host" filter of ${where} (got "${url.slice(0, 100)}")` },
    ]);
  }
}
