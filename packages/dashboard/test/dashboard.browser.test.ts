import { existsSync } from 'node:fs';
import type { Baton, Store } from '@baton/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHROMIUM, launchBrowser, startSite, type Site } from './harness.js';

// Outside CI a machine without Chromium skips these, loudly; CI installs it (.ci/run) and must run them.
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI === 'true') throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
if (missing) console.warn(`\n!!! @baton/dashboard browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`);

// The few browser globals the page.evaluate callbacks use (the tests compile without the DOM lib).
interface El {
  attributes: ArrayLike<{ name: string }>;
  outerHTML: string;
  getAttribute(name: string): string | null;
}
declare const window: { __xss?: unknown };
declare const document: { querySelectorAll(selector: string): ArrayLike<El> };
declare const location: { hash: string };
declare function getComputedStyle(element: unknown): { backgroundColor: string };

const XSS = {
  script: '<script>window.__xss = "script"</script>',
  img: '<img src="x" onerror="window.__xss = \'img\'">',
  link: '[click me](javascript:window.__xss=%22link%22)',
  svg: '<svg><animate onbegin="window.__xss=\'svg\'" attributeName="x" dur="1s"/></svg>',
  overlay: '<div style="position:fixed;inset:0;background:white">Session expired: enter your password</div>',
};

const control = { flakyBroken: true };

async function defineWorkflows(baton: Baton, store: Store) {
  await baton.defineWorkflow(
    { name: 'all-logs', description: 'writes one log of each type', steps: [{ name: 'write' }, { name: 'ask-llm', dependsOn: ['write'] }] },
    {
      write: async (ctx) => {
        ctx.log('a plain log line');
        ctx.json({ answer: 42, nested: { list: [1, 2, 3] } });
        ctx.markdown('# Report\n\nSome **bold** text and a [link](https://example.com).\n\n- one\n- two');
        ctx.error(new Error('something broke'));
        ctx.info('an info box');
        ctx.warn('a warning box');
        ctx.danger('a danger box');
        ctx.success('a success box');
        const hits = await ctx.tool('search', { query: 'baton' }, async () => ({ hits: 3 }));
        return { hits };
      },
      'ask-llm': async () => ({
        text: 'The **answer** is 42.',
        payloadId: 'p-1',
        payloadName: 'summary',
        model: 'test-model-7b',
        tokens: { prompt: 12, completion: 5 },
        durationMs: 321,
        format: 'chatml',
        api: 'openai',
      }),
    },
  );
  await baton.defineWorkflow(
    { name: 'xss', description: `description ${XSS.img}`, retry: { maxAttempts: 1 }, steps: [{ name: 'inject' }] },
    {
      inject: async (ctx) => {
        ctx.log(`${XSS.script} ${XSS.img}`);
        ctx.markdown(`# Title ${XSS.script}\n\n${XSS.img}\n\n${XSS.link}\n\n${XSS.svg}\n\n${XSS.overlay}\n\n<b>bold survives</b>`);
        ctx.info(XSS.img);
        ctx.warn(XSS.script);
        ctx.json({ [XSS.img]: XSS.script });
        ctx.error(new Error(`bad ${XSS.img}`));
        throw new Error(`failed ${XSS.img}`);
      },
    },
  );
  await baton.defineWorkflow(
    {
      name: 'greet',
      description: 'greets someone',
      steps: [{ name: 'hello' }],
      metadata: {
        inputSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', title: 'Name', description: 'who to greet' },
            times: { type: 'integer', default: 2 },
            loud: { type: 'boolean' },
            mood: { enum: ['calm', 'cheerful'] },
          },
          required: ['name'],
        },
      },
    },
    {
      hello: async (ctx) => {
        ctx.info(`hello ${String(ctx.inputs.name)}`);
        return { greeted: ctx.inputs.name ?? null };
      },
    },
  );
  await baton.defineWorkflow({ name: 'free-form', steps: [{ name: 'echo' }] }, { echo: async (ctx) => ctx.inputs });
  await baton.defineWorkflow(
    { name: 'endless', steps: [{ name: 'wait' }] },
    {
      wait: (ctx) =>
        new Promise((_, reject) => {
          ctx.log('waiting until cancelled');
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        }),
    },
  );
  await baton.defineWorkflow(
    {
      name: 'flaky',
      retry: { maxAttempts: 1 },
      steps: [
        { name: 'shard', taskCount: 3 },
        { name: 'sum', dependsOn: ['shard'] },
      ],
    },
    {
      shard: async (ctx) => {
        if (control.flakyBroken && ctx.taskIndex === 1) throw new Error('shard 1 is broken');
        return ctx.taskIndex;
      },
      sum: async (ctx) => (ctx.upstream.shard as number[]).reduce((a, b) => a + b, 0),
    },
  );
  await baton.defineWorkflow({ name: 'quick', schedules: [{ cron: '0 3 * * *' }], steps: [{ name: 'one' }] }, { one: async () => 'ok' });
  await store.setConfig({ key: 'api.token', value: 'hunter2-plain-secret', isSecret: true, description: 'the API token' });
  await store.setConfig({ key: 'db.credentials', value: { user: 'u', password: 'hunter2-json-secret' }, isSecret: true });
  await store.setConfig({ key: 'feature.enabled', value: true, description: 'a public flag' });
}

describe.skipIf(missing)('dashboard in a real browser over a real SQLite store', () => {
  let site: Site;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    site = await startSite(defineWorkflows);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });
  beforeEach(async () => {
    pageErrors.length = 0;
    page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The UI itself must live within its Content-Security-Policy (no inline script or style attribute).
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
    });
    page.on('dialog', (d) => void d.dismiss());
  });
  afterEach(async () => {
    await page.close();
    expect(pageErrors).toEqual([]);
  });

  const open = (path: string, base = '/baton') => page.goto(`${site.url}${base}/#${path}`);
  const statusOf = (runId: string) => page.locator(`tr[data-run-id="${runId}"]`).getAttribute('data-status');

  it('lists runs with their status, filters them, and pages through them', async () => {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await site.baton.trigger('quick', { triggeredBy: 'api' }));
    const scheduled = await site.baton.trigger('quick', { triggeredBy: 'schedule' });
    for (const r of [...runs, scheduled]) await site.baton.waitForRun(r.id);
    await open('/runs');
    for (const r of runs) await expect.poll(() => statusOf(r.id)).toBe('success');
    await page.selectOption('select[name=triggeredBy]', 'schedule');
    await expect.poll(() => page.locator('tbody tr[data-run-id]').count()).toBe(1);
    expect(await page.locator('tbody tr[data-run-id]').getAttribute('data-run-id')).toBe(scheduled.id);
    await page.selectOption('select[name=triggeredBy]', '');
    await page.selectOption('select[name=status]', 'cancelled');
    await expect.poll(() => page.locator('td.empty').textContent()).toContain('No runs match');
    // Paging: two per page through the API the page uses, newest first, no overlap.
    const first = (await (await fetch(`${site.url}/baton/api/runs?limit=2`)).json()) as { items: { id: string }[]; nextCursor: string };
    const second = (await (await fetch(`${site.url}/baton/api/runs?limit=2&cursor=${first.nextCursor}`)).json()) as {
      items: { id: string }[];
    };
    expect(first.items).toHaveLength(2);
    expect(second.items[0]!.id < first.items[1]!.id).toBe(true);
    await open('/runs');
    await page.getByRole('button', { name: 'Older →' }).isEnabled();
  });

  it('opens a run: steps, tasks, timeline, outputs, the eight log types rendered by type, the LLM response and the tool execution', async () => {
    const run = await site.baton.trigger('all-logs');
    await site.baton.waitForRun(run.id);
    await open(`/runs/${run.id}`);
    const logs = page.locator('ol.logs > li');
    await expect.poll(() => logs.count()).toBe(8);
    expect(await logs.evaluateAll((els) => els.map((e) => e.getAttribute('data-log-type')))).toEqual([
      'log',
      'json',
      'markdown',
      'error',
      'info',
      'warn',
      'danger',
      'success',
    ]);
    // log: plain text; json: a formatted tree; markdown: rendered HTML.
    expect(await page.locator('[data-log-type=log] pre.log-plain').textContent()).toBe('a plain log line');
    expect(await page.locator('[data-log-type=json] .j-key').allTextContents()).toEqual(
      expect.arrayContaining(['answer: ', 'nested: ', 'list: ']),
    );
    expect(await page.locator('[data-log-type=markdown] .md h1').textContent()).toBe('Report');
    expect(await page.locator('[data-log-type=markdown] .md strong').textContent()).toBe('bold');
    expect(await page.locator('[data-log-type=markdown] .md li').count()).toBe(2);
    expect(await page.locator('[data-log-type=markdown] .md a').getAttribute('rel')).toContain('noopener');
    // error: its message, and its stack behind a toggle.
    expect(await page.locator('[data-log-type=error] .error-message').textContent()).toBe('Error: something broke');
    expect(await page.locator('[data-log-type=error] details.stack pre').textContent()).toContain('at ');
    // The four boxes, each in its colour.
    const colours: { [type: string]: string } = {};
    for (const type of ['info', 'warn', 'danger', 'success']) {
      const box = page.locator(`[data-log-type=${type}] .box-${type}`);
      expect(await box.locator('.box-text').textContent()).toBe(
        { info: 'an info box', warn: 'a warning box', danger: 'a danger box', success: 'a success box' }[type],
      );
      colours[type] = await box.evaluate((e) => getComputedStyle(e).backgroundColor);
    }
    const rgb = (c: string) => c.match(/\d+/g)!.map(Number) as [number, number, number];
    const [ir, , ib] = rgb(colours.info!);
    expect(ib).toBeGreaterThan(ir); // blue
    const [wr, , wb] = rgb(colours.warn!);
    expect(wr).toBeGreaterThan(wb); // yellow
    const [dr, dg] = rgb(colours.danger!);
    expect(dr).toBeGreaterThan(dg); // red
    const [sr, sg] = rgb(colours.success!);
    expect(sg).toBeGreaterThan(sr); // green
    expect(new Set(Object.values(colours)).size).toBe(4);
    // Tasks with attempt, executor; the DAG with step status; the timeline.
    const write = page.locator('tr[data-status=success]', { hasText: 'write' }).first();
    expect(await write.textContent()).toContain('1/3');
    expect(await write.textContent()).toContain('function');
    expect(await page.locator('svg.dag g.dag-node.s-success').count()).toBe(2);
    expect(await page.locator('.timeline .tl-bar').count()).toBe(2);
    // The LLM response: rendered text and its metadata.
    await page.locator('tr[data-task-id]', { hasText: 'ask-llm' }).click();
    const llm = page.locator('[data-llm-response]');
    expect(await llm.locator('.md strong').textContent()).toBe('answer');
    expect(await llm.textContent()).toContain('test-model-7b');
    expect(await llm.textContent()).toContain('12 prompt, 5 completion');
    // The tool execution: arguments, output, status, duration.
    const tool = page.locator('tr[data-tool=search]');
    expect(await tool.textContent()).toContain('completed');
    expect(await tool.textContent()).toContain('query: "baton"');
    expect(await tool.textContent()).toContain('hits: 3');
  });

  it('renders stored text inert: no script, no event handler, no javascript: link runs', async () => {
    const run = await site.baton.trigger('xss');
    expect((await site.baton.waitForRun(run.id)).status).toBe('failed');
    await open(`/runs/${run.id}`);
    await expect.poll(() => page.locator('ol.logs > li').count()).toBe(6);
    await page
      .locator('[data-log-type=markdown] .md a', { hasText: 'click me' })
      .click({ noWaitAfter: true })
      .catch(() => {});
    await open('/workflows');
    await page.locator('[data-workflow=xss]').waitFor();
    await open(`/runs/${run.id}`);
    await expect.poll(() => page.locator('ol.logs > li').count()).toBe(6);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => window.__xss)).toBeUndefined();
    // Nothing stored became an element with a handler, a script or a javascript: URL...
    const dangerous = await page.evaluate(() => {
      const all = Array.from(document.querySelectorAll('main *'));
      return {
        scripts: document.querySelectorAll('main script').length,
        handlers: all.filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith('on'))).map((e) => e.outerHTML),
        jsLinks: all.filter((e) => /^\s*javascript:/i.test(e.getAttribute('href') ?? '')).length,
        fixed: all.filter((e) => /fixed/.test(e.getAttribute('style') ?? '')).length,
      };
    });
    expect(dangerous).toEqual({ scripts: 0, handlers: [], jsLinks: 0, fixed: 0 });
    // ...plain types show the markup as text, and sanitized markdown keeps harmless markup.
    expect(await page.locator('[data-log-type=log] pre').textContent()).toBe(`${XSS.script} ${XSS.img}`);
    expect(await page.locator('[data-log-type=warn] .box-text').textContent()).toBe(XSS.script);
    expect(await page.locator('[data-log-type=markdown] .md b').textContent()).toBe('bold survives');
    expect(await page.locator('pre.run-error').textContent()).toContain(XSS.img);
    // Chrome reports the handler and style attributes the sanitizer parses (in its inert document, under
    // this page's policy) as blocked; nothing else may show up, and nothing ran (checked above).
    expect(
      pageErrors.every((e) => /Content Security Policy.*(blocked|inline style)/s.test(e)),
      pageErrors.join('\n'),
    ).toBe(true);
    pageErrors.length = 0;
  });

  it('triggers a run from the form built from the input schema, as triggeredBy user', async () => {
    const greet = (await site.store.findWorkflow('greet'))!;
    await open(`/workflows/${greet.id}/trigger`);
    expect(await page.locator('input[name=times]').inputValue()).toBe('2');
    await page.fill('input[name=name]', 'Ada <b>Lovelace</b>');
    await page.check('input[name=loud]');
    await page.selectOption('select[name=mood]', 'cheerful');
    await page.fill('input[name=times]', '3');
    await page.click('button[type=submit]');
    await page.waitForURL(/#\/runs\/[\w-]+$/);
    const runId = page.url().split('/').pop()!;
    const run = await site.baton.waitForRun(runId);
    expect(run).toMatchObject({
      status: 'success',
      triggeredBy: 'user',
      inputs: { name: 'Ada <b>Lovelace</b>', times: 3, loud: true, mood: 'cheerful' },
    });
    await expect.poll(() => page.locator('[data-log-type=info] .box-text').textContent()).toBe('hello Ada <b>Lovelace</b>');
  });

  it('triggers a workflow without a schema from the JSON editor, and says what is wrong with bad JSON', async () => {
    const wf = (await site.store.findWorkflow('free-form'))!;
    await open(`/workflows/${wf.id}/trigger`);
    await page.fill('#inputs-json', '{ "a": ');
    await page.click('button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toContain('Inputs are not valid');
    await page.fill('#inputs-json', '{ "a": [1, 2] }');
    await page.click('button[type=submit]');
    await page.waitForURL(/#\/runs\/[\w-]+$/);
    const run = await site.baton.waitForRun(page.url().split('/').pop()!);
    expect(run).toMatchObject({ status: 'success', triggeredBy: 'user', inputs: { a: [1, 2] } });
  });

  it('cancels a running run', async () => {
    const run = await site.baton.trigger('endless');
    await expect.poll(async () => (await site.store.getRun(run.id)).status).toBe('running');
    await open(`/runs/${run.id}`);
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(() => page.locator('.run-head [data-status]').getAttribute('data-status')).toBe('cancelled');
    expect((await site.baton.waitForRun(run.id)).status).toBe('cancelled');
    await expect.poll(async () => (await site.store.listTasks({ runId: run.id })).items[0]!.status).toBe('cancelled');
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
  });

  it('retries the failed tasks of a finished run, which then succeeds', async () => {
    control.flakyBroken = true;
    const run = await site.baton.trigger('flaky');
    expect((await site.baton.waitForRun(run.id)).status).toBe('failed');
    await open(`/runs/${run.id}`);
    await expect.poll(() => page.locator('tr[data-task-id][data-status=cancelled]').count()).toBe(1);
    control.flakyBroken = false;
    await page.getByRole('button', { name: 'Retry failed tasks' }).click();
    await expect.poll(() => page.locator('.run-head [data-status]').getAttribute('data-status'), { timeout: 15_000 }).toBe('success');
    const done = await site.store.getRun(run.id);
    expect(done).toMatchObject({ status: 'success', tasksFailed: 0, error: null });
    expect(await site.store.getStepOutputs(run.id, ['sum'])).toEqual({ sum: [3] });
    expect(await page.locator('tr[data-task-id][data-status=success]').count()).toBe(4);
  });

  it('shows new runs and status changes live, without a reload', async () => {
    await open('/runs');
    await page.locator('table.runs').waitFor();
    let reloads = 0;
    page.on('load', () => reloads++);
    const run = await site.baton.trigger('endless');
    await expect.poll(() => statusOf(run.id), { timeout: 10_000 }).toBe('running');
    await site.baton.cancelRun(run.id);
    await expect.poll(() => statusOf(run.id), { timeout: 10_000 }).toBe('cancelled');
    expect(reloads).toBe(0);
  });

  it('refuses actions without authorization: no buttons, and a forged POST gets 403 with nothing changed', async () => {
    control.flakyBroken = true;
    const run = await site.baton.trigger('flaky');
    await site.baton.waitForRun(run.id);
    await open(`/runs/${run.id}`, '/readonly');
    await page.locator('.readonly').waitFor();
    expect(await page.getByRole('button', { name: 'Retry failed tasks' }).count()).toBe(0);
    const answer = await page.evaluate(async () => {
      const session = (await (await fetch('api/session')).json()) as { csrfToken: string; canAct: boolean };
      const res = await fetch(`api/runs/${location.hash.split('/').pop()}/retry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-baton-csrf': session.csrfToken },
        body: '{}',
      });
      return { canAct: session.canAct, status: res.status, body: await res.json() };
    });
    expect(answer).toMatchObject({ canAct: false, status: 403, body: { error: expect.stringContaining('not authorized') } });
    expect((await site.store.getRun(run.id)).status).toBe('failed');
  });

  it('refuses POSTs without the CSRF token or from another origin, even when authorized', async () => {
    const run = await site.baton.trigger('endless');
    await open(`/runs/${run.id}`);
    await page.getByRole('button', { name: 'Cancel run' }).waitFor();
    const answers = await page.evaluate(async (id) => {
      const session = (await (await fetch('api/session')).json()) as { csrfToken: string; canAct: boolean };
      const post = (headers: { [k: string]: string }) =>
        fetch(`api/runs/${id}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' }).then(
          (r) => r.status,
        );
      return { none: await post({}), wrong: await post({ 'x-baton-csrf': 'forged' }), canAct: session.canAct };
    }, run.id);
    expect(answers).toEqual({ none: 403, wrong: 403, canAct: true });
    // A cross-site form post carries the cookie only without SameSite=Strict, and never the header.
    const crossSite = await fetch(`${site.url}/baton/api/runs/${run.id}/cancel`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'x-baton-csrf': 't', cookie: 'baton_csrf=t' },
    });
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { error: string }).error).toContain('cross-origin');
    expect((await site.store.getRun(run.id)).status).toBe('running');
    await site.baton.cancelRun(run.id);
  });

  it('shows workflows with status, DAG, schedules with the next fire, counts by status; pauses and resumes', async () => {
    const quick = (await site.store.findWorkflow('quick'))!;
    const counts = await site.store.countRuns({ workflowId: quick.id });
    await open('/workflows');
    const card = page.locator('[data-workflow=quick]');
    await card.waitFor();
    expect(await card.locator('[data-count=success] b').textContent()).toBe(String(counts.success));
    expect(await card.locator('.schedules').textContent()).toMatch(/0 3 \* \* \*.*next: \w+/);
    expect(await page.locator('[data-workflow=flaky] svg.dag g.dag-node').count()).toBe(2);
    expect(await page.locator('[data-workflow=flaky] svg.dag path.dag-edge').count()).toBe(1);
    await card.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => card.locator('[data-status]').first().getAttribute('data-status')).toBe('paused');
    expect((await site.store.getWorkflow(quick.id)).status).toBe('paused');
    expect(await card.locator('.schedules').textContent()).toContain('none while paused');
    await card.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => card.locator('[data-status]').first().getAttribute('data-status')).toBe('active');
    expect((await site.store.getWorkflow(quick.id)).status).toBe('active');
  });

  it('shows config keys and types, and never sends a secret value to the browser', async () => {
    const bodies: string[] = [];
    page.on('response', async (r) => {
      if (r.url().includes('/api/')) bodies.push(await r.text().catch(() => ''));
    });
    await open('/config');
    await page.locator('tr[data-key="api.token"]').waitFor();
    expect(await page.locator('tr[data-key="api.token"]').textContent()).toContain('secret (not shown)');
    expect(await page.locator('tr[data-key="db.credentials"]').textContent()).toContain('json');
    expect(await page.locator('tr[data-key="feature.enabled"]').textContent()).toContain('true');
    const html = await page.content();
    for (const text of [html, ...bodies]) {
      expect(text).not.toContain('hunter2');
    }
    expect(bodies.some((b) => b.includes('api.token'))).toBe(true);
  });
});
