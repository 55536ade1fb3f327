import { ExecutorError, type Executor, type Json, type TaskContext } from '@baton/core';
import { abortError } from '../shared/abort.js';
import { Aborted, describeUrl, excerpt, isOk, parseJson, sendRequest } from '../shared/http-request.js';
import { parseHttpConfig, type HttpStepConfig } from './http-config.js';

export type { HttpStepConfig } from './http-config.js';

export interface HttpExecutorOptions {
  /** The name steps use. @defaultValue 'http' */
  name?: string;
  /** Per-request timeout when the step gives none. @defaultValue 30000 */
  timeoutMs?: number;
  /** Largest response body read; larger fails the attempt. @defaultValue 10 MiB */
  maxResponseBytes?: number;
  /** How much of an error response's body the error message quotes. @defaultValue 500 characters */
  errorExcerptChars?: number;
}

/** What the http executor POSTs for each task. */
export interface HttpTaskBody {
  taskId: string;
  runId: string;
  stepName: string;
  taskIndex: number;
  taskCount: number;
  attempt: number;
  params: { [key: string]: Json };
  inputs: { [key: string]: Json };
}

/**
 * Sends each task to a URL as JSON ({@link HttpTaskBody}), with an
 * `Idempotency-Key` header (the task id: attempts of one task share it). A 2xx
 * answer's JSON body is the output (an empty body is `null`); any other status
 * fails with the status and an excerpt of the body; a body that is not JSON
 * fails; the request is aborted after `timeoutMs` or when the task is.
 * Headers, which may carry credentials, are never logged nor put in errors.
 *
 * @example
 * const baton = createBaton({ store, executors: [httpExecutor({ timeoutMs: 10_000 })] });
 * baton.defineWorkflow({ name: 'notify', steps: [{ name: 'hook', executor: 'http',
 *   config: { url: 'https://hooks.example.com/baton', headersFromConfig: { Authorization: 'hooks.auth' } } }] });
 */
export function httpExecutor(options: HttpExecutorOptions = {}): Executor {
  const settings = {
    name: options.name ?? 'http',
    timeoutMs: options.timeoutMs ?? 30_000,
    maxResponseBytes: options.maxResponseBytes ?? 10 * 1024 * 1024,
    errorExcerptChars: options.errorExcerptChars ?? 500,
  };
  return Object.freeze({
    name: settings.name,
    validateConfig: (config: { [key: string]: Json }) => void parseHttpConfig(config),
    execute: (ctx: TaskContext) => send(ctx, parseHttpConfig(ctx.step.step.config ?? {}), settings),
  });
}

async function send(ctx: TaskContext, config: HttpStepConfig, settings: Required<HttpExecutorOptions>): Promise<Json> {
  if (ctx.signal.aborted) throw abortError(settings.name, ctx.signal);
  const body: HttpTaskBody = {
    taskId: ctx.task.id,
    runId: ctx.run.id,
    stepName: ctx.task.stepName,
    taskIndex: ctx.taskIndex,
    taskCount: ctx.taskCount,
    attempt: ctx.attempt,
    params: ctx.params,
    inputs: ctx.inputs,
  };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    'idempotency-key': ctx.task.id,
    ...config.headers,
  };
  for (const [header, key] of Object.entries(config.headersFromConfig ?? {})) {
    const value = await ctx.config(key);
    if (typeof value !== 'string') throw new ExecutorError(settings.name, `config "${key}" for header ${header} is not a string`);
    headers[header] = value;
  }
  const method = config.method ?? 'POST';
  const timeoutMs = config.timeoutMs ?? settings.timeoutMs;
  const target = `${method} ${describeUrl(config.url)}`;
  const started = Date.now();
  let response;
  try {
    response = await sendRequest(settings.name, config.url, {
      method,
      headers,
      body: JSON.stringify(body),
      timeoutMs,
      signal: ctx.signal,
      maxBytes: settings.maxResponseBytes,
    });
  } catch (error) {
    if (error instanceof Aborted) throw abortError(settings.name, ctx.signal);
    throw error;
  }
  ctx.info(`${target} → ${response.status} in ${Date.now() - started} ms`);
  if (!isOk(response.status)) {
    throw new ExecutorError(settings.name, `${target} answered ${response.status}: ${excerpt(response.text, settings.errorExcerptChars)}`);
  }
  if (response.text.trim() === '') return null;
  return parseJson(settings.name, response.text, `the response of ${target}`) as Json;
}
