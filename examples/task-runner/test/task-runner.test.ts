import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';
import { createApp, type App } from '../src/app.js';

let app: App | undefined;
let store: Store | undefined;
let dir = '';
afterEach(async () => {
  await app?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const SECRET = 'a-long-webhook-s3cret';

async function start(schedules = false, webhookSecret: string | null = SECRET) {
  dir = mkdtempSync(join(tmpdir(), 'baton-task-runner-'));
  store = await openSqliteStore({ filename: join(dir, 'runner.db') });
  app = await createApp({ store, webhookSecret: webhookSecret ?? undefined, schedules });
  await new Promise<void>((r) => app!.server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, { method, body, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { call, base };
}

describe('examples/task-runner (Microlight on Baton)', () => {
  it('triggers over the API and returns the run with its logs of every type, in order', async () => {
    const { call } = await start();
    const created = await call('POST', '/api/tasks/greet', JSON.stringify({ name: 'Ada', times: 2 }));
    expect(created.status).toBe(201);
    expect(created.body.triggeredBy).toBe('api');
    const run = await app!.baton.waitForRun(created.body.id);
    expect(run.status).toBe('success');
    const got = await call('GET', `/api/runs/${run.id}`);
    expect(got.body.durationMs).toBeGreaterThanOrEqual(0);
    expect(got.body.logs.map((l: any) => l.type)).toEqual(['log', 'log', 'info', 'json', 'markdown', 'warn', 'danger', 'error', 'success']);
    expect(got.body.logs[0].content).toBe('hello Ada (1/2)');
    const list = await call('GET', '/api/runs');
    expect(list.body.map((r: any) => r.id)).toContain(run.id);
  });

  it('webhooks need the shared secret; a wrong one gets 401 and creates nothing', async () => {
    const { call } = await start();
    const denied = await call('POST', '/api/webhooks/greet', JSON.stringify({ name: 'Eve' }), { 'x-webhook-secret': 'guess' });
    expect(denied.status).toBe(401);
    expect((await store!.listRuns({})).items).toHaveLength(0);
    for (const wrong of ['', SECRET.slice(0, -1), `${SECRET}x`]) {
      expect((await call('POST', '/api/webhooks/greet', JSON.stringify({ name: 'Eve' }), { 'x-webhook-secret': wrong })).status).toBe(401);
    }
    expect((await call('POST', '/api/webhooks/greet', JSON.stringify({ name: 'Eve' }))).status).toBe(401);
    expect((await store!.listRuns({})).items).toHaveLength(0);
    const ok = await call('POST', '/api/webhooks/greet', JSON.stringify({ name: 'Bob' }), { 'x-webhook-secret': SECRET });
    expect(ok.status).toBe(202);
    expect(ok.body.triggeredBy).toBe('webhook');
  });

  it('without a configured secret webhooks are refused, whatever the header; a short secret is refused at start', async () => {
    const { call } = await start(false, null);
    for (const header of [{}, { 'x-webhook-secret': '' }, { 'x-webhook-secret': 'change-me' }] as Record<string, string>[]) {
      const denied = await call('POST', '/api/webhooks/greet', JSON.stringify({ name: 'Eve' }), header);
      expect(denied.status).toBe(503);
    }
    expect((await store!.listRuns({})).items).toHaveLength(0);
    expect((await call('POST', '/api/tasks/greet', JSON.stringify({ name: 'Ada' }))).status).toBe(201);
    await expect(createApp({ store: store!, webhookSecret: 'change-me', schedules: false })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'webhookSecret',
    });
  });

  it('the service refuses to accept webhooks when started without WEBHOOK_SECRET', async () => {
    const { spawn } = await import('node:child_process');
    dir = mkdtempSync(join(tmpdir(), 'baton-task-runner-'));
    const root = new URL('../../..', import.meta.url).pathname;
    const port = 30_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(
      process.execPath,
      [
        '--conditions=baton-source',
        '--import',
        `${root}node_modules/tsx/dist/loader.mjs`,
        new URL('../src/main.ts', import.meta.url).pathname,
      ],
      {
        env: { ...process.env, WEBHOOK_SECRET: '', BATON_PG_URL: '', BATON_DB: join(dir, 'main.db'), PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes('task-runner on') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('WEBHOOK_SECRET is not set');
      const res = await fetch(`http://127.0.0.1:${port}/api/webhooks/greet`, {
        method: 'POST',
        body: '{"name":"Eve"}',
        headers: { 'x-webhook-secret': 'change-me' },
      });
      expect(res.status).toBe(503);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('bad JSON and inputs that fail the schema get a 400 naming the field, and no run', async () => {
    const { call } = await start();
    const badJson = await call('POST', '/api/tasks/greet', '{"name": ');
    expect(badJson.status).toBe(400);
    expect(badJson.body.error).toMatch(/not JSON/);
    const badInput = await call('POST', '/api/tasks/greet', JSON.stringify({ name: 'Ada', times: 99 }));
    expect(badInput.status).toBe(400);
    expect(badInput.body.field).toBe('times');
    const missing = await call('POST', '/api/tasks/greet', JSON.stringify({}));
    expect(missing.body.field).toBe('name');
    expect((await call('POST', '/api/tasks/nope', '{}')).status).toBe(404);
    expect((await store!.listRuns({})).items).toHaveLength(0);
  });

  it('a task past its timeout ends its run as timeout', async () => {
    const { call } = await start();
    const created = await call('POST', '/api/tasks/slow', JSON.stringify({ ms: 5000 }));
    const run = await app!.baton.waitForRun(created.body.id);
    expect(run.status).toBe('timeout');
    expect(run.error).toMatch(/\n\s+at .*\//); // stored with its stack, for the operator
    const got = await call('GET', `/api/runs/${run.id}`);
    expect(got.body.error).toMatch(/timed out after 300 ms/);
    // Over HTTP: no stack frames, no absolute paths of the server.
    const answer = JSON.stringify(got.body) + JSON.stringify((await call('GET', '/api/runs')).body);
    expect(answer).not.toMatch(/\s+at\s/);
    expect(answer).not.toContain(process.cwd());
    expect(answer).not.toContain(tmpdir());
    expect(answer).not.toMatch(/\/(work|home|root|tmp|usr)\//);
  });

  it('the cron schedule triggers runs as schedule', async () => {
    await start(true);
    const deadline = Date.now() + 8000;
    let runs = (await store!.listRuns({})).items;
    while (!runs.some((r) => r.triggeredBy === 'schedule' && r.status === 'success') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      runs = (await store!.listRuns({})).items;
    }
    const scheduled = runs.filter((r) => r.triggeredBy === 'schedule');
    expect(scheduled.length).toBeGreaterThan(0);
    expect(scheduled[0]!.workflowName).toBe('heartbeat');
  });

  it("mounts the dashboard at /baton/: the page, the runs, and a trigger form schema from the task's zod inputs", async () => {
    // @ts-expect-error: a plain .mjs build script, no types.
    const { buildUi } = await import('../../../packages/dashboard/scripts/build-ui.mjs');
    await buildUi({ quiet: true });
    const { call, base } = await start();
    const created = await call('POST', '/api/tasks/greet', JSON.stringify({ name: 'Ada' }));
    await app!.baton.waitForRun(created.body.id);
    const page = await fetch(`${base}/baton/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('assets/app.js');
    const runs = await call('GET', '/baton/api/runs');
    expect(runs.body.items.map((r: any) => r.id)).toContain(created.body.id);
    const workflows = await call('GET', '/baton/api/workflows');
    const greet = workflows.body.items.find((w: any) => w.name === 'greet');
    expect(greet.inputSchema.properties.name.type).toBe('string');
    expect(greet.counts.success).toBe(1);
    // Addressed to 127.0.0.1: actions allowed by the example's default.
    expect((await call('GET', '/baton/api/session')).body.canAct).toBe(true);
  });
});
