import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError, type Store } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, no types.
import { buildUi } from '../scripts/build-ui.mjs';
import { createDashboard } from '../src/index.js';

let dir: string;
let store: Store;
let server: Server | undefined;
beforeEach(async () => {
  await buildUi({ quiet: true });
  dir = mkdtempSync(join(tmpdir(), 'baton-dashboard-h-'));
  store = await openSqliteStore({ filename: join(dir, 'baton.db') });
});
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function listen(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Session cookie and token, as the page gets them. */
async function session(get: (path: string, init?: RequestInit) => Promise<Response>, path: string) {
  const res = await get(path);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const body = (await res.json()) as { csrfToken: string; canAct: boolean };
  return { cookie, token: body.csrfToken, canAct: body.canAct };
}

describe('dashboard handlers', () => {
  it('the Fetch handler serves the shell, assets and API at the root base path, and creates a user run', async () => {
    const wf = await store.createWorkflow({ name: 'w', steps: [{ name: 's' }] });
    const dashboard = createDashboard({ store, authorize: (req) => req.headers.get('x-role') === 'admin' });
    const call = (path: string, init?: RequestInit) => dashboard.fetch(new Request(`http://127.0.0.1${path}`, init));
    const shell = await call('/');
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await shell.text()).toContain('assets/app.js');
    const js = await call('/assets/app.js');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await call('/assets/..%2Fpackage.json')).status).toBe(404);
    const s = await session(call, '/api/session');
    expect(s.canAct).toBe(false);
    const post = (headers: { [k: string]: string }, body = '{"inputs":{"x":1}}') =>
      call(`/api/workflows/${wf.id}/runs`, { method: 'POST', headers: { cookie: s.cookie, 'x-baton-csrf': s.token, ...headers }, body });
    expect((await post({})).status).toBe(403);
    const created = await post({ 'x-role': 'admin' });
    expect(created.status).toBe(200);
    const { run } = (await created.json()) as { run: { id: string } };
    expect(await store.getRun(run.id)).toMatchObject({ triggeredBy: 'user', inputs: { x: 1 } });
    const bad = await post({ 'x-role': 'admin' }, '{"inputs":[1]}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('must be a JSON object');
    const retry = await call(`/api/runs/${run.id}/retry`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-baton-csrf': s.token, 'x-role': 'admin' },
    });
    expect(retry.status).toBe(409);
    expect(((await retry.json()) as { error: string }).error).toContain('cannot be retried');
    expect((await call('/api/runs/nope')).status).toBe(404);
    expect((await call('/api/runs?status=bogus')).status).toBe(400);
    expect((await call('/api/workflows/0190e5a0-0000-7000-8000-000000000000')).status).toBe(404);
  });

  it('the Node handler works mounted Express-style (prefix stripped from url, kept in originalUrl), and hands authorize the Node request', async () => {
    const seen: string[] = [];
    const dashboard = createDashboard({
      store,
      basePath: '/ops/baton',
      authorize: (_req, nodeReq) => {
        seen.push(String((nodeReq as IncomingMessage & { user?: string }).user));
        return true;
      },
    });
    const url = await listen((req, res) => {
      // What Express does for app.use('/ops/baton', ...): url relative, originalUrl full; middleware adds req.user.
      const r = req as IncomingMessage & { originalUrl?: string; user?: string };
      r.originalUrl = req.url;
      r.user = 'ada';
      req.url = req.url!.slice('/ops/baton'.length) || '/';
      dashboard.node(req, res);
    });
    const redirect = await fetch(`${url}/ops/baton`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/ops/baton/');
    expect((await fetch(`${url}/ops/baton/`)).status).toBe(200);
    const s = await session((p, init) => fetch(`${url}${p}`, init), '/ops/baton/api/session');
    expect(s.canAct).toBe(true);
    expect(seen).toContain('ada');
    const huge = await fetch(`${url}/ops/baton/api/workflows/x/runs`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-baton-csrf': s.token },
      body: JSON.stringify({ inputs: { blob: 'x'.repeat(1_100_000) } }),
    });
    expect(huge.status).toBe(413);
    expect((await fetch(`${url}/elsewhere`)).status).toBe(404);
  });

  it('an authorize that throws denies, and reports the error', async () => {
    const errors: unknown[] = [];
    const dashboard = createDashboard({
      store,
      authorize: () => {
        throw new Error('auth backend down');
      },
      onError: (e) => errors.push(e),
    });
    const res = await dashboard.fetch(new Request('http://127.0.0.1/api/session'));
    expect(((await res.json()) as { canAct: boolean }).canAct).toBe(false);
    expect(String(errors[0])).toContain('auth backend down');
  });

  it('rejects a base path that is not absolute', () => {
    expect(() => createDashboard({ store, basePath: 'baton' })).toThrow(ValidationError);
  });
});
