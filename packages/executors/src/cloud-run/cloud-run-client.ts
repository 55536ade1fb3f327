import { ExecutorError } from '@baton/core';
import { excerpt, isOk, parseJson, sendRequest } from '../shared/http-request.js';
import type { Execution, Operation } from './execution.js';

/** Returns an OAuth2 access token for `https://www.googleapis.com/auth/cloud-platform`. Cache it: it is called per request. */
export type TokenProvider = () => Promise<string>;

export interface RunOverrides {
  taskCount?: number;
  timeout?: string;
  containerOverrides: { name?: string; args?: string[]; env: { name: string; value: string }[] }[];
}

/**
 * The three Cloud Run Admin API v2 calls the executor makes: run a job, get an
 * execution, cancel it. Each is one bounded request with a fresh token; errors
 * carry Google's error message, never the token.
 */
export class CloudRunClient {
  readonly #endpoint: string;
  readonly #token: TokenProvider;
  readonly #timeoutMs: number;
  readonly #executor: string;

  constructor(options: { endpoint: string; tokenProvider: TokenProvider; timeoutMs: number; executor: string }) {
    this.#endpoint = options.endpoint.replace(/\/+$/, '');
    this.#token = options.tokenProvider;
    this.#timeoutMs = options.timeoutMs;
    this.#executor = options.executor;
  }

  run(project: string, region: string, job: string, overrides: RunOverrides): Promise<Operation> {
    const path = `projects/${project}/locations/${region}/jobs/${job}:run`;
    return this.#call('POST', path, `run job ${job}`, { overrides }) as Promise<Operation>;
  }

  get(executionName: string, signal?: AbortSignal): Promise<Execution> {
    return this.#call('GET', executionName, `get execution ${executionName}`, undefined, signal) as Promise<Execution>;
  }

  cancel(executionName: string): Promise<Operation> {
    return this.#call('POST', `${executionName}:cancel`, `cancel execution ${executionName}`, {}) as Promise<Operation>;
  }

  async #call(method: string, path: string, what: string, body?: object, signal?: AbortSignal): Promise<unknown> {
    let token: string;
    try {
      token = await this.#token();
    } catch (error) {
      throw new ExecutorError(this.#executor, `could not get an access token: ${(error as Error).message}`, { cause: error });
    }
    const response = await sendRequest(this.#executor, `${this.#endpoint}/v2/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: this.#timeoutMs,
      signal,
      maxBytes: 5 * 1024 * 1024,
    });
    if (!isOk(response.status)) throw new ExecutorError(this.#executor, `${what}: HTTP ${response.status}: ${googleError(response.text)}`);
    return parseJson(this.#executor, response.text, `the answer to ${what}`);
  }
}

/** Google's `{error: {code, status, message}}`, or an excerpt of whatever came back. */
function googleError(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { status?: string; message?: string } };
    if (parsed.error?.message) return `${parsed.error.status ? `${parsed.error.status}: ` : ''}${parsed.error.message}`;
  } catch {
    // not JSON: quote it
  }
  return excerpt(text, 300);
}
