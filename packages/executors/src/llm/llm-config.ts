import { z } from 'zod';
import { bool, httpUrl, intFrom, issue, oneOf, parseConfig, stringList, text, type StepConfig } from '../shared/config-schema.js';

export const LLM_APIS = ['kobold', 'openai'] as const;
export type LlmApi = (typeof LLM_APIS)[number];

/**
 * An llm step's `config`: which payload to send and where.
 *
 * @example
 * { payload: 'summarise', api: 'kobold' }                        // http://127.0.0.1:{payload.llmPort}
 * { payloadId: 'p-1', api: 'openai', baseUrl: 'http://127.0.0.1:8080', model: 'qwen2.5-7b' }
 */
const llmStepConfig = z
  .object({
    payloadId: text.optional(),
    /** A payload's name, when no id is given. */
    payload: text.optional(),
    /** @defaultValue 'kobold' */
    api: oneOf(LLM_APIS).optional(),
    /** The model server. @defaultValue `http://127.0.0.1:{port ?? payload.llmPort}` */
    baseUrl: httpUrl.optional(),
    /** Port on 127.0.0.1 when no baseUrl is given. @defaultValue the payload's llmPort */
    port: intFrom(1, 65535).optional(),
    /** Model name sent to OpenAI-compatible servers and recorded in the output. */
    model: text.optional(),
    /** Config-store key of an API key, sent as `Authorization: Bearer <key>`. */
    apiKeyFromConfig: text.optional(),
    /** Stop sequences. */
    stop: stringList.optional(),
    /** Add the previous step's response as a last user block (besides any `{{previous}}`). @defaultValue false */
    appendPrevious: bool.optional(),
    /** Request timeout; overrides the executor's. */
    timeoutMs: intFrom(1, 86_400_000).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.payloadId === undefined && c.payload === undefined) issue(ctx, ['payloadId'], 'give payloadId or payload (a name)');
    if (c.payloadId !== undefined && c.payload !== undefined) issue(ctx, ['payload'], 'give payloadId or payload, not both');
    if (c.baseUrl !== undefined && c.port !== undefined) issue(ctx, ['port'], 'give baseUrl or port, not both');
  });

export type LlmStepConfig = z.output<typeof llmStepConfig>;

export function parseLlmConfig(config: StepConfig): LlmStepConfig {
  return parseConfig(llmStepConfig, config, 'llm step config');
}
