import { ExecutorError, type Executor, type Json, type TaskContext } from '@baton/core';
import { abortError } from '../shared/abort.js';
import { Aborted } from '../shared/http-request.js';
import { koboldGenerate, openaiChat, type Generation } from './llm-api.js';
import { parseLlmConfig, type LlmStepConfig } from './llm-config.js';
import { findPayload, resolveBlocks } from './payload-blocks.js';
import { assemblePrompt, chatMessages, type PromptBlock } from './prompt.js';
import { renderTemplate, responseText, TemplateError } from './template.js';

export type { LlmStepConfig, LlmApi } from './llm-config.js';
export { LLM_APIS } from './llm-config.js';
export { assemblePrompt, chatMessages, splitBlocks, SYSTEM_TAG, type PromptBlock, type ChatMessage } from './prompt.js';
export { renderTemplate, responseText, TemplateError, type TemplateValues } from './template.js';
export { findPayload, resolveBlocks } from './payload-blocks.js';

export interface LlmExecutorOptions {
  /** The name steps use. @defaultValue 'llm' */
  name?: string;
  /** Request timeout when the step gives none; models are slow. @defaultValue 120000 */
  timeoutMs?: number;
  /** Largest answer read. @defaultValue 10 MiB */
  maxResponseBytes?: number;
  /** Log the assembled prompt (as markdown) before sending it. @defaultValue false */
  logPrompt?: boolean;
}

/**
 * The task output of an llm step: the response and its metadata, as the LLM
 * Orchestration seed kept them in its `responses` table.
 */
export interface LlmOutput {
  [key: string]: Json;
  text: string;
  payloadId: string;
  payloadName: string;
  model: string | null;
  tokens: { prompt: number | null; completion: number | null };
  durationMs: number;
  format: string;
  api: string;
}

/**
 * Sends a Payload to a model server. The payload's blocks (by id, or every
 * block with a tag, by title) are templated (`{{input.x}}`, `{{params.x}}`,
 * `{{previous}}`, `{{steps.name}}`; see renderTemplate) and assembled in the
 * payload's model format (see assemblePrompt), then sent with the payload's
 * temperature and response length to KoboldCpp (`/api/v1/generate`) or an
 * OpenAI-compatible server (`/v1/chat/completions`, as chat messages: the
 * server applies the model's template). The output is an {@link LlmOutput};
 * the next llm step reads its `text` through `{{previous}}`.
 *
 * @example
 * const baton = createBaton({ store, executors: [llmExecutor()] });
 * await baton.defineWorkflow({ name: 'draft-and-review', executor: 'llm', steps: [
 *   { name: 'draft', config: { payload: 'draft' } },
 *   { name: 'review', dependsOn: ['draft'], config: { payload: 'review' } }, // its blocks use {{previous}}
 * ] });
 */
export function llmExecutor(options: LlmExecutorOptions = {}): Executor {
  const settings: Settings = {
    name: options.name ?? 'llm',
    timeoutMs: options.timeoutMs ?? 120_000,
    maxResponseBytes: options.maxResponseBytes ?? 10 * 1024 * 1024,
    logPrompt: options.logPrompt ?? false,
  };
  return Object.freeze({
    name: settings.name,
    validateConfig: (config: { [key: string]: Json }) => void parseLlmConfig(config),
    execute: (ctx: TaskContext) => generate(ctx, parseLlmConfig(ctx.step.step.config ?? {}), settings),
  });
}

type Settings = Required<LlmExecutorOptions>;

async function generate(ctx: TaskContext, config: LlmStepConfig, settings: Settings): Promise<LlmOutput> {
  if (ctx.signal.aborted) throw abortError(settings.name, ctx.signal);
  const payload = await findPayload(ctx.store, config);
  const blocks = await resolveBlocks(ctx.store, payload, (tag) => ctx.warn(`payload "${payload.name}": no block has the tag "${tag}"`));
  const dependsOn = ctx.step.step.dependsOn ?? [];
  const values = { inputs: ctx.inputs, params: ctx.params, upstream: ctx.upstream, previousStep: dependsOn.at(-1) };
  let parts: PromptBlock[];
  try {
    parts = blocks.map((b) => ({ title: b.title, content: renderTemplate(b.content, values), tags: b.tags }));
  } catch (error) {
    if (error instanceof TemplateError) throw new ExecutorError(settings.name, `payload "${payload.name}": ${error.message}`);
    throw error;
  }
  if (config.appendPrevious && values.previousStep !== undefined) {
    parts.push({ content: responseText(ctx.upstream[values.previousStep] ?? []) });
  }
  const api = config.api ?? 'kobold';
  const baseUrl = (config.baseUrl ?? `http://127.0.0.1:${config.port ?? payload.llmPort}`).replace(/\/+$/, '');
  const headers: Record<string, string> = {};
  if (config.apiKeyFromConfig !== undefined) {
    const key = await ctx.config(config.apiKeyFromConfig);
    if (typeof key !== 'string') throw new ExecutorError(settings.name, `config "${config.apiKeyFromConfig}" is not a string`);
    headers.authorization = `Bearer ${key}`;
  }
  const prompt = assemblePrompt(parts, payload.modelFormat);
  ctx.log(
    `payload "${payload.name}": ${parts.length} blocks, ${prompt.length} characters, format ${payload.modelFormat}, to ${api} at ${baseUrl}`,
  );
  if (settings.logPrompt) ctx.markdown(prompt);
  const call = {
    executor: settings.name,
    timeoutMs: config.timeoutMs ?? settings.timeoutMs,
    signal: ctx.signal,
    headers,
    maxBytes: settings.maxResponseBytes,
  };
  const started = performance.now();
  let generation: Generation;
  try {
    generation =
      api === 'kobold'
        ? await koboldGenerate(
            baseUrl,
            { prompt, temperature: payload.temperature, maxLength: payload.responseLength, stop: config.stop },
            call,
          )
        : await openaiChat(
            baseUrl,
            {
              messages: chatMessages(parts),
              temperature: payload.temperature,
              maxTokens: payload.responseLength,
              model: config.model,
              stop: config.stop,
            },
            call,
          );
  } catch (error) {
    if (error instanceof Aborted) throw abortError(settings.name, ctx.signal);
    throw error;
  }
  const durationMs = Math.round(performance.now() - started);
  ctx.log(`response: ${generation.text.length} characters in ${durationMs} ms`);
  return {
    text: generation.text,
    payloadId: payload.id,
    payloadName: payload.name,
    model: generation.model ?? config.model ?? null,
    tokens: { prompt: generation.promptTokens, completion: generation.completionTokens },
    durationMs,
    format: api === 'kobold' ? payload.modelFormat : 'chat',
    api,
  };
}
