import { expect } from 'vitest';
import { DefinitionError, ValidationError } from '../errors.js';
import type { StoreFactory } from './factory.js';
import { suite } from './suite.js';

/**
 * The one patch rule of every update (core `records.ts`): left out or
 * `undefined` keeps, `null` clears to the create default, a value replaces.
 * Each case reads the result back through a second handle, so that what the
 * store wrote (not only what it answered) follows the rule.
 */
export function patchCases(factory: StoreFactory): void {
  suite(factory, 'patch rule', (test, { open, again }) => {
    test('updateWorkflow: undefined keeps a field, null clears it, a value replaces it', async () => {
      const store = await open();
      const settings = {
        description: 'sync',
        executor: 'http',
        timeoutMs: 9000,
        retry: { maxAttempts: 2 },
        schedules: [{ cron: '*/5 * * * *' }],
      };
      const wf = await store.createWorkflow({ name: 'sync', steps: [{ name: 'a' }], priority: 3, metadata: { owner: 'ops' }, ...settings });
      const kept = await store.updateWorkflow(wf.id, {
        description: undefined,
        executor: undefined,
        timeoutMs: undefined,
        retry: undefined,
        schedules: undefined,
      });
      expect(kept).toMatchObject(settings);

      await store.updateWorkflow(wf.id, {
        description: null,
        executor: null,
        timeoutMs: null,
        retry: null,
        schedules: null,
        metadata: null,
        priority: 7,
      });
      const cleared = await (await again(store)).getWorkflow(wf.id);
      expect(cleared).toMatchObject({
        name: 'sync',
        status: 'active',
        description: null,
        executor: null,
        schedules: [],
        metadata: {},
        priority: 7,
      });
      expect(cleared.timeoutMs).toBeUndefined();
      expect(cleared.retry).toBeUndefined();
      expect(cleared.steps).toEqual([{ name: 'a' }]);
    });

    test('updateWorkflow: fields without a default cannot be cleared, and a patch is checked as a whole definition', async () => {
      const store = await open();
      const wf = await store.createWorkflow({ name: 'two', steps: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }] });
      await expect(store.updateWorkflow(wf.id, { name: null } as never)).rejects.toMatchObject({ field: 'name' });
      await expect(store.updateWorkflow(wf.id, { steps: null } as never)).rejects.toBeInstanceOf(ValidationError);
      const cycle = store.updateWorkflow(wf.id, {
        steps: [
          { name: 'a', dependsOn: ['b'] },
          { name: 'b', dependsOn: ['a'] },
        ],
      });
      await expect(cycle).rejects.toBeInstanceOf(DefinitionError);
      expect((await (await again(store)).getWorkflow(wf.id)).steps).toEqual([{ name: 'a' }, { name: 'b', dependsOn: ['a'] }]);
    });

    test('updateBlock: undefined keeps, null clears content, tags and folder, a title cannot be cleared', async () => {
      const store = await open();
      const block = await store.createBlock({ title: 'Intro', content: 'Hello', tags: ['a', 'b'], folderPath: 'Phase 1' });
      expect(
        await store.updateBlock(block.id, { title: undefined, content: undefined, tags: undefined, folderPath: undefined }),
      ).toMatchObject({
        title: 'Intro',
        content: 'Hello',
        tags: ['a', 'b'],
        folderPath: 'Phase 1',
      });
      await store.updateBlock(block.id, { content: null, tags: null, folderPath: null });
      expect(await (await again(store)).getBlock(block.id)).toMatchObject({ title: 'Intro', content: '', tags: [], folderPath: null });
      await expect(store.updateBlock(block.id, { title: null } as never)).rejects.toMatchObject({ field: 'title' });
    });

    test('updatePayload: undefined keeps, null puts a setting back to its default (0.6, 1000, 5001, default, no blocks)', async () => {
      const store = await open();
      const block = await store.createBlock({ title: 'B' });
      const payload = await store.createPayload({
        name: 'p',
        blocks: [{ blockId: block.id }],
        temperature: 0.1,
        responseLength: 50,
        llmPort: 8080,
        modelFormat: 'chatml',
      });
      const kept = await store.updatePayload(payload.id, { temperature: undefined, blocks: undefined, responseLength: 60 });
      expect(kept).toMatchObject({
        temperature: 0.1,
        blocks: [{ blockId: block.id }],
        responseLength: 60,
        llmPort: 8080,
        modelFormat: 'chatml',
      });
      await store.updatePayload(payload.id, { blocks: null, temperature: null, responseLength: null, llmPort: null, modelFormat: null });
      expect(await (await again(store)).getPayload(payload.id)).toMatchObject({
        name: 'p',
        blocks: [],
        temperature: 0.6,
        responseLength: 1000,
        llmPort: 5001,
        modelFormat: 'default',
      });
      await expect(store.updatePayload(payload.id, { name: null } as never)).rejects.toMatchObject({ field: 'name' });
    });
  });
}
