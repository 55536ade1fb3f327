import {
  fail,
  optionalBoolean,
  optionalHttpUrl,
  optionalInt,
  optionalOneOf,
  optionalString,
  optionalStringArray,
  rejectUnknown,
  type StepConfig,
} from '../shared/config-fields.js';

export const LLM_APIS = ['kobold', 'openai'] as const;
export type LlmApi = (typeof LLM_APIS)[number];

/**
 * An llm step's `config`: which payload to send and where.
 *
 * @example
 * { payload: 'summarise', api: 'kobold' }                        // http://127.0.0.1:{payload.llmPort}
 * { payloadId: 'p-1', api: 'openai', baseUrl: 'http://127.0.0.1:8080', model: 'qwen2.5-7b' }
 */
export interface LlmStepConfig {
  payloadId?: string;
  /** A payload's name, when no id is given. */
  payload?: string;
  /** @defaultValue 'kobold' */
  api?: LlmApi;
  /** The model server. @defaultValue `http://127.0.0.1:{port ?? payload.llmPort}` */
  baseUrl?: string;
  /** Port on 127.0.0.1 when no baseUrl is given. @defaultValue the payload's llmPort */
  port?: number;
  /** Model name sent to OpenAI-compatible servers and recorded in the output. */
  model?: string;
  /** Config-store key of an API key, sent as `Authorization: Bearer <key>`. */
  apiKeyFromConfig?: string;
  /** Stop sequences. */
  stop?: string[];
  /** Add the previous step's response as a last user block (besides any `{{previous}}`). @defaultValue false */
  appendPrevious?: boolean;
  /** Request timeout; overrides the executor's. */
  timeoutMs?: number;
}

export const LLM_CONFIG_FIELDS = [
  'payloadId',
  'payload',
  'api',
  'baseUrl',
  'port',
  'model',
  'apiKeyFromConfig',
  'stop',
  'appendPrevious',
  'timeoutMs',
] as const;

export function parseLlmConfig(config: StepConfig): LlmStepConfig {
  const what = 'llm step config';
  rejectUnknown(what, config, LLM_CONFIG_FIELDS);
  const parsed: LlmStepConfig = {
    payloadId: optionalString(what, config, 'payloadId'),
    payload: optionalString(what, config, 'payload'),
    api: optionalOneOf(what, config, 'api', LLM_APIS),
    baseUrl: optionalHttpUrl(what, config, 'baseUrl'),
    port: optionalInt(what, config, 'port', 1, 65535),
    model: optionalString(what, config, 'model'),
    apiKeyFromConfig: optionalString(what, config, 'apiKeyFromConfig'),
    stop: optionalStringArray(what, config, 'stop'),
    appendPrevious: optionalBoolean(what, config, 'appendPrevious'),
    timeoutMs: optionalInt(what, config, 'timeoutMs', 1, 86_400_000),
  };
  if (parsed.payloadId === undefined && parsed.payload === undefined) fail(what, 'payloadId', 'give payloadId or payload (a name)');
  if (parsed.payloadId !== undefined && parsed.payload !== undefined) fail(what, 'payload', 'give payloadId or payload, not both');
  if (parsed.baseUrl !== undefined && parsed.port !== undefined) fail(what, 'port', 'give baseUrl or port, not both');
  return parsed;
}
