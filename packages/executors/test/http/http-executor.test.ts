import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutorError, ValidationError, type Json } from '@baton/core';
import { httpExecutor } from '../../src/http/index.js';
import { makeContext } from '../helpers.js';

const SECRET = 'Bearer super-secret-token';
let server: Server;
let base: string;
const seen: { path: string; headers: IncomingMessage['headers']; body: unknown }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as unknown) : null;
      seen.push({ path: req.url!, headers: req.headers, body });
      const send = (status: number, text: string, type = 'application/json') => res.writeHead(status, { 'content-type': type }).end(text);
      switch (req.url) {
        case '/ok':
          return send(200, JSON.stringify({ received: body, method: req.method }));
        case '/empty':
          return res.writeHead(204).end();
        case '/fail':
          return send(500, `{"error":"database exploded","detail":"${'x'.repeat(5000)}"}`);
        case '/html':
          return send(200, '<html><body>not json</body></html>', 'text/html');
        case '/huge':
          return send(200, JSON.stringify({ big: 'y'.repeat(100_000) }));
        case '/slow':
          return setTimeout(() => send(200, '{}'), 10_000).unref();
        default:
          return send(404, 'no such route', 'text/plain');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const executor = httpExecutor({ maxResponseBytes: 50_000, timeoutMs: 5_000 });
const run = (config: { [key: string]: Json }, extra: Parameters<typeof makeContext>[0] = {}) => {
  const t = makeContext({ config, configStore: { 'svc.auth': SECRET }, ...extra });
  return {
    t,
    result: executor.execute(t.ctx).then(
      (value) => ({ value }),
      (error: unknown) => ({ error: error as Error }),
    ),
  };
};

describe('http executor', () => {
  it('POSTs the task as JSON with headers from config and returns the JSON answer', async () => {
    const { t, result } = run(
      { url: `${base}/ok`, headers: { 'x-team': 'data' }, headersFromConfig: { Authorization: 'svc.auth' } },
      { params: { day: 'mon' }, inputs: { region: 'eu' }, taskIndex: 1, taskCount: 4, attempt: 2 },
    );
    const { value } = (await result) as { value: Json };
    expect(value).toEqual({
      method: 'POST',
      received: {
        taskId: t.ctx.task.id,
        runId: t.ctx.run.id,
        stepName: 'step',
        taskIndex: 1,
        taskCount: 4,
        attempt: 2,
        params: { day: 'mon' },
        inputs: { region: 'eu' },
      },
    });
    const request = seen.at(-1)!;
    expect(request.headers.authorization).toBe(SECRET);
    expect(request.headers['x-team']).toBe('data');
    expect(request.headers['idempotency-key']).toBe(t.ctx.task.id);
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.stringify(t.logs)).not.toContain('super-secret');
    expect(t.lines('info')[0]).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/ok → 200 in \d+ ms$/);
  });

  it('uses the configured method and returns null for an empty 2xx body', async () => {
    const { result } = run({ url: `${base}/empty`, method: 'PUT' });
    expect(await result).toEqual({ value: null });
    expect(seen.at(-1)!.path).toBe('/empty');
  });

  it('fails a non-2xx answer with the status and a bounded excerpt, never the headers', async () => {
    const { error } = (await run({ url: `${base}/fail`, headersFromConfig: { Authorization: 'svc.auth' } }).result) as { error: Error };
    expect(error).toBeInstanceOf(ExecutorError);
    expect(error.message).toMatch(/answered 500: \{"error":"database exploded"/);
    expect(error.message.length).toBeLessThan(700);
    expect(error.message).not.toContain('super-secret');
    const notFound = (await run({ url: `${base}/missing` }).result) as { error: Error };
    expect(notFound.error.message).toMatch(/answered 404: no such route/);
  });

  it('fails a 2xx answer that is not JSON, and one over maxResponseBytes', async () => {
    const html = (await run({ url: `${base}/html` }).result) as { error: Error };
    expect(html.error.message).toMatch(/is not valid JSON .*<html><body>not json/);
    const huge = (await run({ url: `${base}/huge` }).result) as { error: Error };
    expect(huge.error.message).toMatch(/exceeds 50000 bytes/);
  });

  it('times out a request after timeoutMs', async () => {
    const { error } = (await run({ url: `${base}/slow`, timeoutMs: 200 }).result) as { error: Error };
    expect(error).toBeInstanceOf(ExecutorError);
    expect(error.message).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/slow timed out after 200 ms/);
  });

  it('stops when the task is aborted and throws the abort reason', async () => {
    const { t, result } = run({ url: `${base}/slow` });
    setTimeout(() => t.abort(new Error('run cancelled')), 100);
    const { error } = (await result) as { error: Error };
    expect(error.message).toBe('run cancelled');
  });

  it('fails clearly when nothing listens, and when a config secret is missing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = (await run({ url: `http://127.0.0.1:${port}/x` }).result) as { error: Error };
    expect(refused.error.message).toMatch(/failed: ECONNREFUSED/);
    const missing = (await run({ url: `${base}/ok`, headersFromConfig: { Authorization: 'nope' } }).result) as { error: Error };
    expect(missing.error.message).toMatch(/config not found: nope/);
  });

  it('validates step config, naming the bad field', () => {
    const check = (config: { [key: string]: Json }) => () => executor.validateConfig!(config, makeContext().ctx.step);
    expect(check({})).toThrow(ValidationError);
    expect(check({})).toThrow(/url: is required/);
    expect(check({ url: 'not a url' })).toThrow(/url: must be an absolute URL/);
    expect(check({ url: 'ftp://x/y' })).toThrow(/url: must be an http/);
    expect(check({ url: `${base}/ok`, method: 'GET' })).toThrow(/method: must be one of POST, PUT, PATCH/);
    expect(check({ url: `${base}/ok`, headers: { 'bad header': 'x' } })).toThrow(/headers\.bad header/);
    expect(check({ url: `${base}/ok`, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(check({ url: `${base}/ok`, method: 'PATCH', timeoutMs: 5 })).not.toThrow();
  });
});
