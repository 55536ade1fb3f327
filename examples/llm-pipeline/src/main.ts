/**
 * The LLM Orchestration seed on Baton: blocks (tagged, in folders), two
 * payloads built from them with different temperatures and model formats, and
 * a workflow that runs them in order, each step's response feeding the next.
 * Each response is kept as its task's output with its metadata. Talks to the
 * server at LLM_URL (LLM_API=kobold|openai); with none it starts a local
 * stand-in that speaks KoboldCpp's API.
 *
 * Every request to one provider counts against that provider's rate limit
 * (LLM_RATE per minute, default 60) and concurrency limit (4 at once), across
 * every process sharing the store: the keys name the provider, taken from the
 * run's inputs when the run is planned.
 */
import { pathToFileURL } from 'node:url';
import { createBaton, type Json, type Run, type Store } from '@baton/core';
import { llmExecutor } from '@baton/executors';
import { startFakeLlmServer } from '@baton/executors/testing';
import { openSqliteStore } from '@baton/store-sqlite';

export interface PipelineResult {
  /** The first topic's run (one run per topic). */
  run: Run;
  responses: { step: string; output: Json }[];
  runs: Run[];
}

export interface PipelineOptions {
  store: Store;
  /** One run per topic; all share the provider's limits. */
  topics?: string[];
  /** A single topic, when `topics` is not given. */
  topic?: string;
  /** Requests per window to one provider. @defaultValue LLM_RATE or 60 per 60 s */
  rate?: { limit: number; periodMs: number };
  print?: (line: string) => void;
}

/** The stand-in's answer: the prompt's last line of text, format tokens removed. */
function lastLine(prompt: string): string {
  const text = prompt.replace(/<\|im_(start|end)\|>(system|user|assistant)?|\[\/?INST\]|<\/?s>|<<\/?SYS>>/g, '');
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ''
  ).slice(0, 120);
}

export async function runPipeline({
  store,
  topic = 'orchestration',
  topics = [topic],
  rate = { limit: Number(process.env.LLM_RATE ?? 60), periodMs: 60_000 },
  print = console.log,
}: PipelineOptions): Promise<PipelineResult> {
  const api = (process.env.LLM_API ?? 'kobold') as 'kobold' | 'openai';
  const fake = process.env.LLM_URL
    ? undefined
    : await startFakeLlmServer({ reply: (r) => `(${r.body.temperature}) echo: ${lastLine(r.prompt)}` });
  const baseUrl = process.env.LLM_URL ?? fake!.url;
  const baton = createBaton({ store, executors: [llmExecutor({ timeoutMs: 60_000 })] });
  try {
    // Blocks: reusable snippets, organised in folders, referenced by id or tag.
    const system = await store.createBlock({
      title: 'Role',
      content: 'You are a concise technical writer.',
      tags: ['system'],
      folderPath: 'Shared',
    });
    await store.createBlock({
      title: '1 Task',
      content: 'Write a three-point outline about {{input.topic}}.',
      tags: ['outline'],
      folderPath: 'Phase 1/Instructions',
    });
    await store.createBlock({
      title: '2 Style',
      content: 'Use plain words.',
      tags: ['outline', 'style'],
      folderPath: 'Phase 1/Instructions',
    });
    await store.createBlock({
      title: 'Expand',
      content: 'Expand this outline into a paragraph:\n{{previous}}',
      tags: ['expand'],
      folderPath: 'Phase 2/Instructions',
    });
    // Payloads: ordered blocks + LLM settings (the seed's temperature, response length, port, model format).
    const outline = await store.createPayload({
      name: 'outline',
      blocks: [{ blockId: system.id }, { tag: 'outline' }],
      temperature: 0.2,
      responseLength: 200,
      modelFormat: 'chatml',
    });
    const expand = await store.createPayload({
      name: 'expand',
      blocks: [{ blockId: system.id }, { tag: 'expand' }],
      temperature: 0.9,
      responseLength: 600,
      modelFormat: 'mistral',
    });
    await baton.defineWorkflow({
      name: 'write-article',
      executor: 'llm',
      // Per provider, across every worker on this store: at most rate.limit requests per window, 4 at once.
      rateLimit: { key: 'llm:{inputs.provider}', ...rate },
      concurrency: { key: 'llm:{inputs.provider}', limit: 4 },
      steps: [
        { name: 'outline', config: { payloadId: outline.id, api, baseUrl } },
        { name: 'expand', dependsOn: ['outline'], config: { payloadId: expand.id, api, baseUrl } },
      ],
    });
    await baton.start();
    print(`LLM pipeline on ${api} at ${baseUrl}${fake ? ' (local stand-in)' : ''}`);
    const provider = `${api}@${new URL(baseUrl).host}`;
    const triggered = [];
    for (const t of topics) triggered.push(await baton.trigger('write-article', { inputs: { topic: t, provider } }));
    // Why tasks wait: the limit keys, what is used and how many due tasks wait under each.
    const report = setInterval(
      () => {
        void store.listLimits().then(
          (limits) => {
            for (const l of limits.filter((l) => l.waiting > 0 && l.used >= l.limit)) {
              print(
                `  ${l.waiting} task(s) limited by ${l.kind} key ${l.key} (${l.used}/${l.limit}${l.periodMs ? ` per ${l.periodMs / 1000} s` : ''})`,
              );
            }
          },
          () => {},
        );
      },
      Math.min(1000, rate.periodMs / 2),
    );
    const runs = [];
    try {
      for (const r of triggered)
        runs.push(await baton.waitForRun(r.id, { timeoutMs: 120_000 + (2 * topics.length * rate.periodMs) / rate.limit }));
    } finally {
      clearInterval(report);
    }
    const run = runs[0]!;
    const tasks = (await store.listTasks({ runId: run.id })).items;
    const responses = tasks.map((t) => ({ step: t.stepName, output: t.output }));
    for (const { step, output } of responses) {
      const o = output as { text: string; model: string | null; format: string; durationMs: number; tokens: unknown };
      print(`\n[${step}] format=${o.format} model=${o.model ?? '?'} ${o.durationMs} ms tokens=${JSON.stringify(o.tokens)}\n${o.text}`);
    }
    for (const r of runs) print(`\nrun ${r.id} (${r.inputs.topic}) ${r.status} in ${r.durationMs} ms`);
    return { run, responses, runs };
  } finally {
    await baton.stop();
    await fake?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const store = await openSqliteStore({ filename: process.env.BATON_DB ?? '.baton/llm-pipeline.db' });
  const topics = process.argv.slice(2);
  const { runs } = await runPipeline({ store, topics: topics.length > 0 ? topics : ['workflow orchestration'] });
  await store.close();
  process.exitCode = runs.every((r) => r.status === 'success') ? 0 : 1;
}
