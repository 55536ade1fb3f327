import { ExecutorError } from '@baton/core';

/**
 * One HTTP exchange with bounds: a per-request timeout, an optional outer
 * signal (the task's), and a cap on the body read into memory. Failures become
 * ExecutorErrors that name the executor and never include request headers.
 */

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** The task's signal; when it aborts, the request stops and `Aborted` is thrown. */
  signal?: AbortSignal;
  /** The most body bytes read; a larger body fails the request. */
  maxBytes: number;
}

export interface HttpResponse {
  status: number;
  text: string;
}

/** Thrown when the outer signal aborted the request: the caller cleans up and rethrows its reason. */
export class Aborted extends Error {}

export async function sendRequest(executor: string, url: string, init: HttpRequest): Promise<HttpResponse> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  const target = describeUrl(url);
  try {
    const response = await fetch(url, { method: init.method, headers: init.headers, body: init.body, signal, redirect: 'follow' });
    const text = await readBounded(response, init.maxBytes, executor, target);
    return { status: response.status, text };
  } catch (error) {
    if (init.signal?.aborted) throw new Aborted('aborted');
    if (error instanceof ExecutorError) throw error;
    if (timeout.aborted) throw new ExecutorError(executor, `${init.method} ${target} timed out after ${init.timeoutMs} ms`);
    throw new ExecutorError(executor, `${init.method} ${target} failed: ${networkReason(error)}`, { cause: error });
  }
}

async function readBounded(response: Response, maxBytes: number, executor: string, target: string): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ExecutorError(executor, `response from ${target} exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Origin and path only: query strings may carry tokens. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? (error as Error).message ?? String(error);
}

/** The first `maxChars` characters of a body, on one line, for an error message. */
export function excerpt(text: string, maxChars: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= maxChars) return flat || '<empty body>';
  return `${flat.slice(0, maxChars)}… (${text.length} chars)`;
}

/** Parses a JSON body or throws an ExecutorError quoting its start. */
export function parseJson(executor: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ExecutorError(executor, `${what} is not valid JSON (${(error as Error).message}): ${excerpt(text, 200)}`);
  }
}

export function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}
