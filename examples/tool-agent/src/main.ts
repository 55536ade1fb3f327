/**
 * acolib rebuilt on Baton: a workflow definition of sequenced tool steps.
 * Every tool call goes through ctx.tool and is audited as a ToolExecution;
 * settings and a secret come from the config store (the secret is never
 * printed: logs, errors and audit records show [redacted]); the workers are
 * sessions in the store.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createBaton, type Run, type Session, type Store, type ToolExecution } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';

export interface AgentResult {
  run: Run;
  tools: ToolExecution[];
  sessions: Session[];
}

/** A tiny "weather API" on 127.0.0.1 that wants the secret token. */
async function startWeatherApi(token: string) {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end('{"error":"bad token"}');
      return;
    }
    const city = new URL(req.url ?? '/', 'http://x').searchParams.get('city');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ city, tempC: 21, sky: 'clear' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function runAgent({ store, print = console.log }: { store: Store; print?: (line: string) => void }): Promise<AgentResult> {
  const token = 'wx-secret-token-42';
  const api = await startWeatherApi(token);
  await store.setConfig({ key: 'agent.city', value: 'Lisbon', description: 'which city to report on' });
  await store.setConfig({ key: 'agent.units', value: 'metric' });
  await store.setConfig({ key: 'weather.token', value: token, isSecret: true, description: 'weather API token' });
  await store.setConfig({ key: 'weather.url', value: api.url });
  const baton = createBaton({ store, workerId: 'agent-worker-1', concurrency: 2 });
  try {
    await baton.defineWorkflow(
      {
        name: 'weather-report',
        description: 'fetch → summarise → publish, each step a tool call',
        retry: { maxAttempts: 1 },
        steps: [
          { name: 'fetch', title: 'Fetch the weather' },
          { name: 'summarise', title: 'Summarise it', dependsOn: ['fetch'] },
          { name: 'publish', title: 'Publish the report', dependsOn: ['summarise'], workspace: '/tmp' },
        ],
      },
      {
        fetch: async (ctx) => {
          const city = (await ctx.config('agent.city')) as string;
          const tokenValue = (await ctx.config('weather.token')) as string;
          const url = (await ctx.config('weather.url')) as string;
          ctx.info(`calling the weather API for ${city} with token ${tokenValue}`); // redacted in the log
          return ctx.tool('weather.get', { city, auth: `Bearer ${tokenValue}` }, async (signal) => {
            const res = await fetch(`${url}/?city=${encodeURIComponent(city)}`, {
              headers: { authorization: `Bearer ${tokenValue}` },
              signal,
            });
            if (!res.ok) throw new Error(`weather API answered ${res.status}`);
            return (await res.json()) as never;
          });
        },
        summarise: async (ctx) => {
          const weather = (ctx.upstream.fetch as { city: string; tempC: number; sky: string }[])[0]!;
          const units = await ctx.config('agent.units');
          return ctx.tool('text.summarise', { weather, units }, async () => `${weather.city}: ${weather.tempC}°C and ${weather.sky}`);
        },
        publish: async (ctx) => {
          const [summary] = ctx.upstream.summarise as string[];
          await ctx
            .tool(
              'slow.channel',
              { text: summary! },
              (signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
              { timeoutMs: 100 },
            )
            .catch((e) => ctx.warn(`slow channel skipped: ${(e as Error).message}`));
          await ctx.tool('report.publish', { text: summary!, workspace: ctx.task.workspace }, async () => ({ published: true }));
          ctx.success(summary!);
          return summary!;
        },
      },
    );
    await baton.start();
    const triggered = await baton.trigger('weather-report', { triggeredBy: 'user' });
    const run = await baton.waitForRun(triggered.id);
    const tools = (await store.listToolExecutions({ runId: run.id })).items;
    const sessions = await store.listSessions({ activeOnly: true });
    print(`run ${run.id}: ${run.status} in ${run.durationMs} ms`);
    print('\nTool executions (audit)');
    for (const t of tools)
      print(`  ${t.toolName.padEnd(16)} ${t.status.padEnd(9)} ${String(t.durationMs).padStart(4)} ms  args ${JSON.stringify(t.arguments)}`);
    print('\nActive sessions');
    for (const s of sessions) print(`  ${s.id} (${s.connectionType}) last heartbeat ${s.lastHeartbeat.toISOString()}`);
    print('\nConfig');
    for (const c of await store.listConfig()) print(`  ${c.key} = ${c.isSecret ? '[secret]' : JSON.stringify(c.value)}`);
    print('\nLogs');
    for (const l of (await store.listLogs(run.id, { limit: 100 })).items) print(`  [${l.type}] ${l.content}`);
    return { run, tools, sessions };
  } finally {
    await baton.stop();
    await api.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const store = await openSqliteStore({ filename: process.env.BATON_DB ?? '.baton/tool-agent.db' });
  const { run } = await runAgent({ store });
  await store.close();
  process.exitCode = run.status === 'success' ? 0 : 1;
}
