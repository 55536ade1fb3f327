import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutorError, NotFoundError, ValidationError, type Json, type Payload, type Store } from '@baton/core';
import { llmExecutor } from '../../src/llm/index.js';
import { startFakeLlmServer, type FakeLlmServer } from '../../src/testing/index.js';
import { makeContext, type ContextOptions } from '../helpers.js';
import { tempSqliteStore } from '../sqlite.js';

let store: Store;
let dispose: () => Promise<void>;
let llm: FakeLlmServer;
let story: Payload;
let chat: Payload;

beforeAll(async () => {
  ({ store, dispose } = await tempSqliteStore());
  llm = await startFakeLlmServer();
  const persona = await store.createBlock({
    title: 'Persona',
    content: 'You are a careful editor.',
    tags: ['system'],
    folderPath: 'Phase 1/Instructions',
  });
  const task = await store.createBlock({ title: 'Task', content: 'Write about {{input.topic}} for {{params.audience}}.' });
  // Tag refs expand by title: "A rule" before "B rule", whatever the creation order.
  await store.createBlock({ title: 'B rule', content: 'Rule B.', tags: ['rules'] });
  await store.createBlock({ title: 'A rule', content: 'Rule A.', tags: ['rules'] });
  story = await store.createPayload({
    name: 'story',
    blocks: [{ blockId: persona.id }, { tag: 'rules' }, { blockId: task.id }],
    temperature: 0.7,
    responseLength: 256,
    llmPort: llm.port,
    modelFormat: 'chatml',
  });
  const review = await store.createBlock({ title: 'Review', content: 'Review this draft:\n{{previous}}' });
  chat = await store.createPayload({
    name: 'review',
    blocks: [{ blockId: persona.id }, { blockId: review.id }],
    temperature: 0.2,
    responseLength: 64,
    llmPort: llm.port,
  });
});
afterAll(async () => {
  await llm.close();
  await dispose();
});

const executor = llmExecutor({ timeoutMs: 5_000 });
const run = async (config: { [key: string]: Json }, options: ContextOptions = {}) => {
  const t = makeContext({ config, store, ...options });
  const result = await executor.execute(t.ctx).then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error as Error }),
  );
  return { t, ...result } as { t: typeof t; value?: Json; error?: Error };
};

describe('llm executor', () => {
  it("assembles the payload's blocks in its format and sends them to KoboldCpp", async () => {
    const { t, value } = await run({ payloadId: story.id }, { inputs: { topic: 'owls' }, params: { audience: 'children' } });
    const request = llm.requests.at(-1)!;
    expect(request.api).toBe('kobold');
    expect(request.body).toEqual({
      prompt:
        '<|im_start|>system\nYou are a careful editor.<|im_end|>\n<|im_start|>user\nRule A.\n\nRule B.\n\nWrite about owls for children.<|im_end|>\n<|im_start|>assistant\n',
      temperature: 0.7,
      max_length: 256,
    });
    expect(value).toMatchObject({
      text: 'response to: <|im_start|>assistant',
      payloadId: story.id,
      payloadName: 'story',
      model: null,
      tokens: { prompt: null, completion: null },
      format: 'chatml',
      api: 'kobold',
    });
    expect((value as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);
    expect(t.lines('log')[0]).toBe(
      `payload "story": 4 blocks, ${request.prompt.length} characters, format chatml, to kobold at http://127.0.0.1:${llm.port}`,
    );
  });

  it('sends chat messages to an OpenAI-compatible server, with the API key from config, and keeps usage', async () => {
    llm.script({ text: 'Looks good.' });
    const { t, value } = await run(
      { payload: 'review', api: 'openai', baseUrl: llm.url, model: 'qwen-7b', apiKeyFromConfig: 'llm.key', stop: ['###'] },
      { upstream: { draft: [{ text: 'Owls are birds.', model: null }] }, dependsOn: ['draft'], configStore: { 'llm.key': 'sk-secret' } },
    );
    const request = llm.requests.at(-1)!;
    expect(request.api).toBe('openai');
    expect(request.authorization).toBe('Bearer sk-secret');
    expect(request.body).toEqual({
      model: 'qwen-7b',
      messages: [
        { role: 'system', content: 'You are a careful editor.' },
        { role: 'user', content: 'Review this draft:\nOwls are birds.' },
      ],
      temperature: 0.2,
      max_tokens: 64,
      stop: ['###'],
    });
    expect(value).toMatchObject({
      text: 'Looks good.',
      payloadId: chat.id,
      model: 'qwen-7b',
      tokens: { prompt: 11, completion: 2 },
      format: 'chat',
      api: 'openai',
    });
    expect(JSON.stringify(t.logs)).not.toContain('sk-secret');
  });

  it('appends the previous response when asked', async () => {
    await run(
      { payloadId: story.id, appendPrevious: true },
      { inputs: { topic: 'owls' }, params: { audience: 'all' }, upstream: { outline: ['1. Owls'] }, dependsOn: ['outline'] },
    );
    expect(llm.requests.at(-1)!.prompt).toContain('Write about owls for all.\n\n1. Owls<|im_end|>');
  });

  it('fails clearly on 500s, malformed JSON, answers without text, and timeouts', async () => {
    const ctx = { inputs: { topic: 'x' }, params: { audience: 'y' } };
    llm.script({ status: 500, body: '{"error":"CUDA out of memory"}' });
    const failed = await run({ payloadId: story.id }, ctx);
    expect(failed.error).toBeInstanceOf(ExecutorError);
    expect(failed.error!.message).toBe('llm: the model server answered 500: {"error":"CUDA out of memory"}');
    llm.script({ status: 200, body: '{"results": [{"text": "cut off' });
    expect((await run({ payloadId: story.id }, ctx)).error!.message).toMatch(/the model server answer is not valid JSON/);
    llm.script({ status: 200, body: '{"results": []}' });
    expect((await run({ payloadId: story.id }, ctx)).error!.message).toBe('llm: the model server answer has no results[0].text');
    llm.script({ delayMs: 2_000 });
    expect((await run({ payloadId: story.id, timeoutMs: 100 }, ctx)).error!.message).toMatch(
      /POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/generate timed out after 100 ms/,
    );
  });

  it('stops when the task is aborted', async () => {
    llm.script({ delayMs: 2_000 });
    const t = makeContext({ config: { payloadId: story.id }, store, inputs: { topic: 'x' }, params: { audience: 'y' } });
    const pending = executor.execute(t.ctx);
    setTimeout(() => t.abort(new Error('cancelled')), 100);
    await expect(pending).rejects.toThrow('cancelled');
  });

  it('fails on template values, payloads and blocks that do not exist', async () => {
    const missingInput = await run({ payloadId: story.id }, { params: { audience: 'y' } });
    expect(missingInput.error!.message).toBe('llm: payload "story": {{input.topic}}: no value at "topic"');
    expect((await run({ payload: 'no-such-payload' })).error).toBeInstanceOf(NotFoundError);
    const gone = await store.createBlock({ title: 'Gone', content: 'soon deleted' });
    const broken = await store.createPayload({ name: 'broken', blocks: [{ blockId: gone.id }], llmPort: llm.port });
    await store.deleteBlock(gone.id);
    expect((await run({ payloadId: broken.id })).error).toBeInstanceOf(NotFoundError);
    const empty = await store.createPayload({
      name: 'empty-tag',
      blocks: [{ tag: 'nothing-has-this' }, { blockId: (await store.createBlock({ title: 'Q', content: 'Q?' })).id }],
      llmPort: llm.port,
    });
    const warned = await run({ payloadId: empty.id });
    expect(warned.value).toMatchObject({ text: 'response to: Q?' });
    expect(warned.t.lines('warn')).toEqual(['payload "empty-tag": no block has the tag "nothing-has-this"']);
  });

  it('validates step config, naming the bad field', () => {
    const check = (config: { [key: string]: Json }) => () => executor.validateConfig!(config, makeContext().ctx.step);
    expect(check({})).toThrow(ValidationError);
    expect(check({})).toThrow(/payloadId: give payloadId or payload/);
    expect(check({ payloadId: 'a', payload: 'b' })).toThrow(/payload: give payloadId or payload, not both/);
    expect(check({ payloadId: 'a', api: 'anthropic' })).toThrow(/api: must be one of kobold, openai/);
    expect(check({ payloadId: 'a', port: 70000 })).toThrow(/port: must be an integer/);
    expect(check({ payloadId: 'a', baseUrl: 'localhost:5001' })).toThrow(/baseUrl/);
    // The path reaches into arrays; an unknown key lists the known ones.
    expect(check({ payloadId: 'a', stop: ['###', 3] })).toThrow(/stop\.1: must be a string/);
    expect(check({ payloadId: 'a', temperature: 0.2 })).toThrow(
      /temperature: unknown field \(known: payloadId, payload, api, baseUrl, port/,
    );
    expect(check({ payload: 'a', api: 'openai', baseUrl: 'http://127.0.0.1:8080', model: 'm' })).not.toThrow();
  });
});
