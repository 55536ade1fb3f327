import { describe, expect, it } from 'vitest';
import { llmExecutor } from '../../src/llm/index.js';
import { startFakeLlmServer } from '../../src/testing/index.js';
import { startBaton, tasksOf } from '../baton.js';

describe('llm executor under the scheduler', () => {
  it("passes each step's response to the next through {{previous}}", async () => {
    const llm = await startFakeLlmServer({
      reply: (r) => (r.prompt.includes('Review') ? 'Approved.' : `A draft about ${r.body.prompt.includes('owls') ? 'owls' : '?'}.`),
    });
    try {
      const { baton, store } = await startBaton([llmExecutor()]);
      const ask = await store.createBlock({ title: 'Ask', content: 'Write one line about {{input.topic}}.' });
      const review = await store.createBlock({ title: 'Review', content: 'Review this:\n{{previous}}' });
      await store.createPayload({
        name: 'draft',
        blocks: [{ blockId: ask.id }],
        llmPort: llm.port,
        modelFormat: 'mistral',
        temperature: 0.9,
        responseLength: 80,
      });
      await store.createPayload({ name: 'review', blocks: [{ blockId: review.id }], llmPort: llm.port, modelFormat: 'llama' });
      await baton.defineWorkflow({
        name: 'write',
        executor: 'llm',
        steps: [
          { name: 'draft', config: { payload: 'draft' } },
          { name: 'review', dependsOn: ['draft'], config: { payload: 'review' } },
        ],
      });
      const run = await baton.trigger('write', { inputs: { topic: 'owls' } });
      expect((await baton.waitForRun(run.id, { timeoutMs: 20_000 })).status).toBe('success');
      expect(llm.requests.map((r) => r.prompt)).toEqual([
        '[INST] Write one line about owls. [/INST]',
        '<s>[INST] Review this:\nA draft about owls. [/INST]',
      ]);
      expect(llm.requests[0]!.body).toMatchObject({ temperature: 0.9, max_length: 80 });
      const [draft, reviewed] = await tasksOf(store, run.id);
      expect(draft!.output).toMatchObject({ text: 'A draft about owls.', format: 'mistral', api: 'kobold' });
      expect(reviewed!.output).toMatchObject({ text: 'Approved.', format: 'llama' });
    } finally {
      await llm.close();
    }
  });
});
