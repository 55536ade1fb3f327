import { ExecutorError } from '@baton/core';
import { excerpt, isOk, parseJson, sendRequest } from '../shared/http-request.js';
import type { ChatMessage } from './prompt.js';

/** What one generation returned. Token counts are null when the server does not report them. */
export interface Generation {
  text: string;
  model: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

export interface CallOptions {
  executor: string;
  timeoutMs: number;
  signal: AbortSignal;
  headers: Record<string, string>;
  maxBytes: number;
}

async function post(url: string, body: object, options: CallOptions): Promise<unknown> {
  const response = await sendRequest(options.executor, url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
    body: JSON.stringify(body),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    maxBytes: options.maxBytes,
  });
  if (!isOk(response.status)) {
    throw new ExecutorError(options.executor, `the model server answered ${response.status}: ${excerpt(response.text, 300)}`);
  }
  return parseJson(options.executor, response.text, 'the model server answer');
}

const malformed = (executor: string, what: string) => new ExecutorError(executor, `the model server answer has no ${what}`);

/** KoboldCpp: `POST /api/v1/generate` → `{ results: [{ text }] }`. */
export async function koboldGenerate(
  baseUrl: string,
  request: { prompt: string; temperature: number; maxLength: number; stop?: string[] },
  options: CallOptions,
): Promise<Generation> {
  const body = {
    prompt: request.prompt,
    temperature: request.temperature,
    max_length: request.maxLength,
    ...(request.stop && { stop_sequence: request.stop }),
  };
  const answer = (await post(`${baseUrl}/api/v1/generate`, body, options)) as { results?: { text?: unknown }[] } | null;
  const text = answer?.results?.[0]?.text;
  if (typeof text !== 'string') throw malformed(options.executor, 'results[0].text');
  return { text, model: null, promptTokens: null, completionTokens: null };
}

/** OpenAI-compatible servers: `POST /v1/chat/completions` → `choices[0].message.content` and `usage`. */
export async function openaiChat(
  baseUrl: string,
  request: { messages: ChatMessage[]; temperature: number; maxTokens: number; model?: string; stop?: string[] },
  options: CallOptions,
): Promise<Generation> {
  const body = {
    ...(request.model && { model: request.model }),
    messages: request.messages,
    temperature: request.temperature,
    max_tokens: request.maxTokens,
    ...(request.stop && { stop: request.stop }),
  };
  const answer = (await post(`${baseUrl}/v1/chat/completions`, body, options)) as {
    model?: unknown;
    choices?: { message?: { content?: unknown } }[];
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  } | null;
  const text = answer?.choices?.[0]?.message?.content;
  if (typeof text !== 'string') throw malformed(options.executor, 'choices[0].message.content');
  const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? n : null);
  return {
    text,
    model: typeof answer?.model === 'string' ? answer.model : (request.model ?? null),
    promptTokens: count(answer?.usage?.prompt_tokens),
    completionTokens: count(answer?.usage?.completion_tokens),
  };
}
