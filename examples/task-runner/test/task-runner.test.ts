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

async function start(schedules = false) {
  dir = mkdtempSync(join(tmpdir(), 'baton-task-runner-'));
  store = await openSqliteStore({ filename: join(dir, 'runner.db') });
  app = await createApp({ store, webhookSecret: 's3cret', schedules });
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
    const ok = await call('POST', '/api/webhooks/greet', JSON.stringify({ name: 'Bob' }), { 'x-webhook-secret': 's3cret' });
    expect(ok.status).toBe(202);
    expect(ok.body.triggeredBy).toBe('webhook');
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

  it('mounts the dashboard at /baton/: the page, the runs, and a trigger form schema from the task\'s zod inputs', async () => {
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
