import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake model server received. */
export interface FakeLlmRequest {
  api: 'kobold' | 'openai';
  path: string;
  authorization: string | undefined;
  /** The parsed JSON body. */
  body: any;
  /** The prompt (kobold) or the messages' contents joined by blank lines (openai). */
  prompt: string;
}

/** A scripted answer for the next request, in place of a normal reply. */
export interface FakeLlmScript {
  /** Answer with this status (and `body`). */
  status?: number;
  /** Raw body to send (e.g. malformed JSON). */
  body?: string;
  /** Wait this long before answering (to test timeouts). */
  delayMs?: number;
  /** Normal reply, but with this text. */
  text?: string;
}

export interface FakeLlmOptions {
  /** Writes the reply text. @defaultValue `response to: <the prompt's last line>` */
  reply?: (request: FakeLlmRequest) => string;
  /** The model name OpenAI-style answers report. @defaultValue 'fake-model' */
  model?: string;
}

export interface FakeLlmServer {
  readonly url: string;
  readonly port: number;
  readonly requests: FakeLlmRequest[];
  /** Queues scripted answers for the next requests, in order. */
  script(...answers: FakeLlmScript[]): void;
  close(): Promise<void>;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

/**
 * A stand-in model server on 127.0.0.1 that speaks both KoboldCpp's
 * `POST /api/v1/generate` and OpenAI's `POST /v1/chat/completions`, for tests
 * and examples. Token counts in `usage` are word counts.
 *
 * @example
 * const llm = await startFakeLlmServer({ reply: (r) => r.prompt.toUpperCase() });
 * // payload.llmPort = llm.port, or step config { baseUrl: llm.url }
 */
export async function startFakeLlmServer(options: FakeLlmOptions = {}): Promise<FakeLlmServer> {
  const requests: FakeLlmRequest[] = [];
  const scripts: FakeLlmScript[] = [];
  const model = options.model ?? 'fake-model';
  const reply = options.reply ?? ((r: FakeLlmRequest) => `response to: ${r.prompt.trim().split('\n').at(-1) ?? ''}`);
  const pending = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const api = path === '/api/v1/generate' ? 'kobold' : path === '/v1/chat/completions' ? 'openai' : null;
      if (req.method !== 'POST' || api === null)
        return send(res, 404, JSON.stringify({ detail: { msg: `no route ${req.method} ${path}` } }));
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, JSON.stringify({ detail: { msg: 'body is not JSON' } }));
      }
      const prompt =
        api === 'kobold' ? String(body.prompt ?? '') : ((body.messages ?? []) as { content: string }[]).map((m) => m.content).join('\n\n');
      const request: FakeLlmRequest = { api, path, authorization: req.headers.authorization, body, prompt };
      requests.push(request);
      const script = scripts.shift() ?? {};
      const answer = () => {
        if (script.status !== undefined || script.body !== undefined) return send(res, script.status ?? 200, script.body ?? '');
        const text = script.text ?? reply(request);
        if (api === 'kobold') return send(res, 200, JSON.stringify({ results: [{ text, finish_reason: 'length' }] }));
        return send(
          res,
          200,
          JSON.stringify({
            id: `chatcmpl-${requests.length}`,
            object: 'chat.completion',
            model: body.model ?? model,
            choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
            usage: { prompt_tokens: words(prompt), completion_tokens: words(text), total_tokens: words(prompt) + words(text) },
          }),
        );
      };
      if (!script.delayMs) return answer();
      const timer = setTimeout(() => {
        pending.delete(timer);
        if (!res.destroyed) answer();
      }, script.delayMs);
      pending.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    script: (...answers) => void scripts.push(...answers),
    close: async () => {
      for (const timer of pending) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
}
