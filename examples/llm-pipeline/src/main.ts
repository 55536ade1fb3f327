/**
 * The LLM Orchestration seed on Baton: blocks (tagged, in folders), two
 * payloads built from them with different temperatures and model formats, and
 * a workflow that runs them in order, each step's response feeding the next.
 * Each response is kept as its task's output with its metadata. Talks to the
 * server at LLM_URL (LLM_API=kobold|openai); with none it starts a local
 * stand-in that speaks KoboldCpp's API.
 */
import { pathToFileURL } from 'node:url';
import { createBaton, type Json, type Run, type Store } from '@baton/core';
import { llmExecutor } from '@baton/executors';
import { startFakeLlmServer } from '@baton/executors/testing';
import { openSqliteStore } from '@baton/store-sqlite';

export interface PipelineResult {
  run: Run;
  responses: { step: string; output: Json }[];
}

/** The stand-in's answer: the prompt's last line of text, format tokens removed. */
function lastLine(prompt: string): string {
  const text = prompt.replace(/<\|im_(start|end)\|>(system|user|assistant)?|\[\/?INST\]|<\/?s>|<<\/?SYS>>/g, '');
  return (text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '').slice(0, 120);
}

export async function runPipeline({ store, topic = 'orchestration', print = console.log }: { store: Store; topic?: string; print?: (line: string) => void }): Promise<PipelineResult> {
  const api = (process.env.LLM_API ?? 'kobold') as 'kobold' | 'openai';
  const fake = process.env.LLM_URL
    ? undefined
    : await startFakeLlmServer({ reply: (r) => `(${r.body.temperature}) echo: ${lastLine(r.prompt)}` });
  const baseUrl = process.env.LLM_URL ?? fake!.url;
  const baton = createBaton({ store, executors: [llmExecutor({ timeoutMs: 60_000 })] });
  try {
    // Blocks: reusable snippets, organised in folders, referenced by id or tag.
    const system = await store.createBlock({ title: 'Role', content: 'You are a concise technical writer.', tags: ['system'], folderPath: 'Shared' });
    await store.createBlock({ title: '1 Task', content: 'Write a three-point outline about {{input.topic}}.', tags: ['outline'], folderPath: 'Phase 1/Instructions' });
    await store.createBlock({ title: '2 Style', content: 'Use plain words.', tags: ['outline', 'style'], folderPath: 'Phase 1/Instructions' });
    await store.createBlock({ title: 'Expand', content: 'Expand this outline into a paragraph:\n{{previous}}', tags: ['expand'], folderPath: 'Phase 2/Instructions' });
    // Payloads: ordered blocks + LLM settings (the seed's temperature, response length, port, model format).
    const outline = await store.createPayload({ name: 'outline', blocks: [{ blockId: system.id }, { tag: 'outline' }], temperature: 0.2, responseLength: 200, modelFormat: 'chatml' });
    const expand = await store.createPayload({ name: 'expand', blocks: [{ blockId: system.id }, { tag: 'expand' }], temperature: 0.9, responseLength: 600, modelFormat: 'mistral' });
    await baton.defineWorkflow({
      name: 'write-article',
      executor: 'llm',
      steps: [
        { name: 'outline', config: { payloadId: outline.id, api, baseUrl } },
        { name: 'expand', dependsOn: ['outline'], config: { payloadId: expand.id, api, baseUrl } },
      ],
    });
    await baton.start();
    print(`LLM pipeline on ${api} at ${baseUrl}${fake ? ' (local stand-in)' : ''}`);
    const triggered = await baton.trigger('write-article', { inputs: { topic } });
    const run = await baton.waitForRun(triggered.id, { timeoutMs: 120_000 });
    const tasks = (await store.listTasks({ runId: run.id })).items;
    const responses = tasks.map((t) => ({ step: t.stepName, output: t.output }));
    for (const { step, output } of responses) {
      const o = output as { text: string; model: string | null; format: string; durationMs: number; tokens: unknown };
      print(`\n[${step}] format=${o.format} model=${o.model ?? '?'} ${o.durationMs} ms tokens=${JSON.stringify(o.tokens)}\n${o.text}`);
    }
    print(`\nrun ${run.status} in ${run.durationMs} ms`);
    return { run, responses };
  } finally {
    await baton.stop();
    await fake?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const store = await openSqliteStore({ filename: process.env.BATON_DB ?? '.baton/llm-pipeline.db' });
  const { run } = await runPipeline({ store, topic: process.argv[2] ?? 'workflow orchestration' });
  await store.close();
  process.exitCode = run.status === 'success' ? 0 : 1;
}
