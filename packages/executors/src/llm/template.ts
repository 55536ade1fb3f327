import type { Json } from '@baton/core';

/**
 * Prompt templating. Block contents may hold `{{ ... }}` placeholders:
 *
 * - `{{input.x}}` (or `{{inputs.x}}`): the run's input `x`; dotted paths reach into objects.
 * - `{{params.x}}`: the task's param `x`.
 * - `{{previous}}`: the response of the step this one depends on (the last
 *   one named in `dependsOn`); a fanned-out step's responses are joined by blank lines.
 * - `{{steps.name}}`: the response of the named upstream step.
 *
 * Strings are inserted as they are, other JSON values as JSON. A placeholder
 * with one of these roots that names nothing fails the attempt; any other
 * `{{...}}` is left untouched, so prompts may still show literal braces.
 */
export interface TemplateValues {
  inputs: { [key: string]: Json };
  params: { [key: string]: Json };
  /** Outputs of upstream steps, as in `ctx.upstream`. */
  upstream: { [stepName: string]: (Json | null)[] };
  /** The step named by `{{previous}}`; undefined when the step depends on none. */
  previousStep: string | undefined;
}

export class TemplateError extends Error {}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*)((?:\.[\w-]+)*)\s*\}\}/g;

export function renderTemplate(text: string, values: TemplateValues): string {
  return text.replace(PLACEHOLDER, (whole, root: string, rest: string) => {
    const path = rest ? rest.slice(1).split('.') : [];
    switch (root) {
      case 'input':
      case 'inputs':
        return show(lookup(values.inputs, path, whole));
      case 'params':
        return show(lookup(values.params, path, whole));
      case 'previous':
        if (path.length > 0) return show(lookup(outputOf(values, values.previousStep, whole), path, whole));
        return responseText(outputsOf(values, values.previousStep, whole));
      case 'steps': {
        const [step, ...inner] = path;
        if (step === undefined) throw new TemplateError(`${whole} names no step`);
        if (inner.length > 0) return show(lookup(outputOf(values, step, whole), inner, whole));
        return responseText(outputsOf(values, step, whole));
      }
      default:
        return whole;
    }
  });
}

function outputsOf(values: TemplateValues, step: string | undefined, whole: string): (Json | null)[] {
  if (step === undefined) throw new TemplateError(`${whole}: this step depends on no other step`);
  const outputs = Object.hasOwn(values.upstream, step) ? values.upstream[step] : undefined;
  if (outputs === undefined) throw new TemplateError(`${whole}: "${step}" is not a step this one depends on`);
  return outputs;
}

function outputOf(values: TemplateValues, step: string | undefined, whole: string): Json {
  const outputs = outputsOf(values, step, whole);
  return outputs.length === 1 ? (outputs[0] ?? null) : outputs;
}

function lookup(root: Json, path: string[], whole: string): Json {
  let value: Json = root;
  for (const key of path) {
    if (!hasJsonKey(value, key)) throw new TemplateError(`${whole}: no value at "${path.join('.')}"`);
    value = (value as { [key: string]: Json })[key]!;
  }
  return value;
}

/**
 * Only the value's own data: `constructor`, `__proto__`, `toString` or an
 * array's `length` are not JSON fields, and resolving them through the
 * prototype would send garbage to the model instead of failing the attempt.
 */
function hasJsonKey(value: Json, key: string): boolean {
  if (Array.isArray(value)) return /^(0|[1-9]\d*)$/.test(key) && Number(key) < value.length;
  return value !== null && typeof value === 'object' && Object.hasOwn(value, key);
}

function show(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The text of a response: an LLM output's `text`, a string as is, anything else as JSON. */
export function responseText(outputs: (Json | null)[]): string {
  return outputs
    .map((output) => {
      if (output !== null && typeof output === 'object' && !Array.isArray(output) && typeof output.text === 'string') return output.text;
      if (output === null) return '';
      return show(output);
    })
    .join('\n\n');
}
