/**
 * Takes the README's screenshots with the tests' setup (Chromium through
 * playwright-core, a real server over SQLite):
 * `node --conditions=baton-source --import tsx test/screenshots.ts` (from packages/dashboard).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchBrowser, startSite } from './harness.js';

const out = fileURLToPath(new URL('../docs/', import.meta.url));
mkdirSync(out, { recursive: true });
let flaky = true;
const site = await startSite(async (baton, store) => {
  await baton.defineWorkflow(
    {
      name: 'nightly-report',
      description: 'Fans out over shards, aggregates, and writes the report.',
      schedules: [{ cron: '0 3 * * *' }],
      steps: [
        { name: 'fetch', taskCount: 4 },
        { name: 'clean', dependsOn: ['fetch'] },
        { name: 'score', dependsOn: ['fetch'] },
        { name: 'report', dependsOn: ['clean', 'score'] },
      ],
    },
    {
      fetch: async (ctx) => {
        await new Promise((r) => setTimeout(r, 80 + ctx.taskIndex * 40));
        ctx.log(`shard ${ctx.taskIndex} fetched ${(ctx.taskIndex + 1) * 120} rows`);
        return { rows: (ctx.taskIndex + 1) * 120 };
      },
      clean: async (ctx) => {
        await new Promise((r) => setTimeout(r, 120));
        ctx.info('dropped 12 duplicate rows');
        return { kept: 1188 };
      },
      score: async (ctx) => {
        const hits = await ctx.tool('lookup-thresholds', { region: 'eu-west', metric: 'p95' }, async () => ({ p95: 240, unit: 'ms' }));
        ctx.json({ thresholds: hits, model: 'v3' });
        return { score: 0.93 };
      },
      report: async (ctx) => {
        ctx.markdown(
          '## Nightly report\n\n| shard | rows |\n|---|---|\n| 0 | 120 |\n| 1 | 240 |\n\nAll **four** shards arrived. See [the runbook](https://example.com/runbook).',
        );
        ctx.warn('shard 2 arrived 40 s late');
        ctx.danger('disk on worker-3 at 91%');
        ctx.error(new Error('retrying the upload once'));
        ctx.success('report published');
        return { url: 'https://example.com/reports/2026-11-23' };
      },
    },
  );
  await baton.defineWorkflow(
    {
      name: 'send-invoice',
      description: 'Renders and emails one invoice.',
      retry: { maxAttempts: 1 },
      steps: [{ name: 'render' }, { name: 'email', dependsOn: ['render'] }],
      metadata: {
        inputSchema: {
          type: 'object',
          properties: {
            customer: { type: 'string', title: 'Customer', description: 'account id' },
            amount: { type: 'number', title: 'Amount (EUR)' },
            currency: { enum: ['EUR', 'USD'] },
            dryRun: { type: 'boolean', title: 'Dry run' },
          },
          required: ['customer', 'amount'],
        },
      },
    },
    {
      render: async () => ({ pages: 2 }),
      email: async () => {
        if (flaky) throw new Error('SMTP 451: try again later');
        return { sent: true };
      },
    },
  );
  await store.setConfig({ key: 'smtp.password', value: 'not-shown', isSecret: true, description: 'mail relay password' });
  await store.setConfig({ key: 'smtp.host', value: 'mail.internal', description: 'mail relay' });
  await store.setConfig({ key: 'report.shards', value: 4 });
  await store.setConfig({ key: 'limits', value: { perMinute: 60 }, valueType: 'json' });
});
const report = await site.baton.trigger('nightly-report', { triggeredBy: 'schedule' });
await site.baton.waitForRun(report.id);
for (let i = 0; i < 3; i++)
  await site.baton.waitForRun((await site.baton.trigger('send-invoice', { inputs: { customer: `c-${i}`, amount: 40 + i } })).id);
flaky = false;
const ok = await site.baton.trigger('send-invoice', { inputs: { customer: 'c-9', amount: 12 }, triggeredBy: 'user' });
await site.baton.waitForRun(ok.id);
await site.baton.waitForRun((await site.baton.trigger('nightly-report', { triggeredBy: 'schedule' })).id);

const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1280, height: 820 }, deviceScaleFactor: 1 });
const shot = async (path: string, name: string, ready: string, fullPage = false) => {
  await page.goto(`${site.url}/baton/#${path}`);
  await page.locator(ready).first().waitFor();
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${out}${name}.png`, fullPage });
  console.log(`docs/${name}.png`);
};
await shot('/runs', 'runs', 'tr[data-run-id]');
await shot(`/runs/${report.id}`, 'run', 'ol.logs > li:nth-child(9)', true);
await shot('/workflows', 'workflows', '[data-workflow=send-invoice]');
const invoice = (await site.store.findWorkflow('send-invoice'))!;
await shot(`/workflows/${invoice.id}/trigger`, 'trigger', 'input[name=customer]');
await shot('/config', 'config', 'tr[data-key]');
await browser.close();
await site.close();
