import { expect } from 'vitest';
import { NotFoundError, ValidationError } from '../errors.js';
import { defineWorkflow, sleep, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

export function recordCases(factory: StoreFactory): void {
  suite(factory, 'logs', (test, { open }) => {
    test('logs for a run that does not exist: NotFoundError naming it, and nothing of the call is written', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run } = await store.createRun({ workflowId: wf.id });
      for (const missing of ['missing', run.id.toUpperCase(), '01a20cd3-059d-718f-bb51-e9c126b99426']) {
        const error = await store
          .appendLogs([
            { runId: run.id, type: 'info', content: 'kept out' },
            { runId: missing, type: 'info', content: 'nowhere' },
          ])
          .catch((e) => e);
        expect(error).toBeInstanceOf(NotFoundError);
        expect(error.message).toContain(missing);
      }
      expect((await store.listLogs(run.id)).items).toEqual([]);
    });

    test('keeps logs in append order across batches and pages them', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 2 }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const [t0, t1] = (await store.listTasks({ runId: run.id })).items;
      const types = ['log', 'json', 'markdown', 'error', 'info', 'warn', 'danger', 'success'] as const;
      for (let batch = 0; batch < 5; batch++) {
        await store.appendLogs(
          Array.from({ length: 7 }, (_, i) => ({
            runId: run.id,
            taskId: i % 2 ? t1!.id : t0!.id,
            type: types[(batch * 7 + i) % 8]!,
            content: `line ${batch * 7 + i}`,
          })),
        );
      }
      await store.appendLogs([{ runId: run.id, type: 'info', content: 'run-level' }]);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await store.listLogs(run.id, { limit: 10, cursor });
        seen.push(...page.items.map((l) => l.content));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...Array.from({ length: 35 }, (_, i) => `line ${i}`), 'run-level']);
      const all = (await store.listLogs(run.id, { limit: 100 })).items;
      expect(all[1]).toMatchObject({ type: 'json', taskId: t1!.id, runId: run.id });
      expect(all.at(-1)!.taskId).toBeNull();
      expect(all.every((l, i) => i === 0 || l.id > all[i - 1]!.id)).toBe(true);
      const onlyT0 = (await store.listLogs(run.id, { taskId: t0!.id, limit: 100 })).items;
      expect(onlyT0.map((l) => l.content)).toEqual(
        Array.from({ length: 35 }, (_, i) => i)
          .filter((i) => (i % 7) % 2 === 0)
          .map((i) => `line ${i}`),
      );
    });
  });

  suite(factory, 'blocks and payloads', (test, { open }) => {
    test('creates, updates, lists by tag and folder, and deletes blocks', async () => {
      const store = await open();
      const intro = await store.createBlock({
        title: 'Intro',
        content: 'Hello',
        tags: ['greeting', 'phase1'],
        folderPath: 'Phase 1/Instructions',
      });
      const body = await store.createBlock({ title: 'Body', content: 'Work', tags: ['phase1'] });
      await store.createBlock({ title: 'a_b%', content: 'x', tags: ['odd_tag%'] });
      expect(intro).toMatchObject({ title: 'Intro', tags: ['greeting', 'phase1'], folderPath: 'Phase 1/Instructions' });
      expect((await store.listBlocks({ tag: 'phase1' })).items.map((b) => b.title)).toEqual(['Body', 'Intro']);
      expect((await store.listBlocks({ tag: 'phase' })).items).toEqual([]);
      expect((await store.listBlocks({ tag: 'odd_tag%' })).items.map((b) => b.title)).toEqual(['a_b%']);
      expect((await store.listBlocks({ folderPath: 'Phase 1/Instructions' })).items.map((b) => b.id)).toEqual([intro.id]);
      await sleep(2);
      const edited = await store.updateBlock(body.id, { content: 'More work', tags: [] });
      expect(edited).toMatchObject({ content: 'More work', tags: [], title: 'Body' });
      expect(edited.updatedAt.getTime()).toBeGreaterThan(body.updatedAt.getTime());
      const page1 = await store.listBlocks({ limit: 2 });
      const page2 = await store.listBlocks({ limit: 2, cursor: page1.nextCursor });
      expect([...page1.items, ...page2.items].map((b) => b.title)).toEqual(['Body', 'Intro', 'a_b%']);
      await store.deleteBlock(intro.id);
      await expect(store.getBlock(intro.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.deleteBlock(intro.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    test('creates payloads with defaults, updates and deletes them', async () => {
      const store = await open();
      const block = await store.createBlock({ title: 'B' });
      const p = await store.createPayload({ name: 'summarise', blocks: [{ blockId: block.id }, { tag: 'style' }] });
      expect(p).toMatchObject({ name: 'summarise', temperature: 0.6, responseLength: 1000, llmPort: 5001, modelFormat: 'default' });
      expect(p.blocks).toEqual([{ blockId: block.id }, { tag: 'style' }]);
      const q = await store.updatePayload(p.id, { temperature: 0.2, modelFormat: 'chatml' });
      expect(q).toMatchObject({ temperature: 0.2, modelFormat: 'chatml', responseLength: 1000 });
      expect((await store.listPayloads()).items.map((x) => x.id)).toEqual([p.id]);
      await store.deletePayload(p.id);
      await expect(store.getPayload(p.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.updatePayload(p.id, { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  suite(factory, 'config', (test, { open }) => {
    test('sets typed values, infers types, overwrites, lists by key and deletes', async () => {
      const store = await open();
      expect(await store.setConfig({ key: 'a.count', value: 3 })).toMatchObject({ valueType: 'integer', value: 3, isSecret: false });
      expect((await store.setConfig({ key: 'a.ratio', value: 0.5 })).valueType).toBe('float');
      expect((await store.setConfig({ key: 'a.flag', value: true })).valueType).toBe('boolean');
      expect((await store.setConfig({ key: 'a.obj', value: { x: [1, 2] } })).valueType).toBe('json');
      const secret = await store.setConfig({ key: 'api.key', value: 'sk-123456', isSecret: true, description: 'the key' });
      expect(secret).toMatchObject({ isSecret: true, description: 'the key', valueType: 'string' });
      await sleep(2);
      const over = await store.setConfig({ key: 'a.count', value: 4, valueType: 'integer' });
      expect(over.value).toBe(4);
      expect(over.updatedAt.getTime()).toBeGreaterThan(over.createdAt.getTime());
      expect((await store.listConfig()).map((e) => e.key)).toEqual(['a.count', 'a.flag', 'a.obj', 'a.ratio', 'api.key']);
      await expect(store.setConfig({ key: 'a.count', value: 'four', valueType: 'integer' })).rejects.toBeInstanceOf(ValidationError);
      expect((await store.getConfig('a.count')).value).toBe(4);
      await store.deleteConfig('a.flag');
      await expect(store.getConfig('a.flag')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.deleteConfig('a.flag')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  suite(factory, 'sessions', (test, { open }) => {
    test('registers, heartbeats, ends, lists and expires sessions', async () => {
      const store = await open();
      const a = await store.registerSession({ id: 'worker-a', clientId: 'host-1', connectionType: 'worker', metadata: { pid: 1 } });
      expect(a).toMatchObject({ id: 'worker-a', clientId: 'host-1', isActive: true, userId: null, metadata: { pid: 1 } });
      const b = await store.registerSession({ clientId: 'browser', userId: 'ada', connectionType: 'websocket' });
      expect(b.id).toBeTruthy();
      await sleep(5);
      const beat = await store.heartbeatSession('worker-a');
      expect(beat.lastHeartbeat.getTime()).toBeGreaterThan(a.lastHeartbeat.getTime());
      expect((await store.listSessions()).map((s) => s.id)).toEqual(['worker-a', b.id]);
      expect(await store.expireSessions(new Date(beat.lastHeartbeat.getTime() - 1))).toBe(1);
      expect((await store.listSessions({ activeOnly: true })).map((s) => s.id)).toEqual(['worker-a']);
      await store.endSession('worker-a');
      expect(await store.listSessions({ activeOnly: true })).toEqual([]);
      expect((await store.heartbeatSession('worker-a')).isActive).toBe(true);
      await expect(store.heartbeatSession('ghost')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.endSession('ghost')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  suite(factory, 'tool executions', (test, { open }) => {
    test('records, finishes and lists tool executions by task, run and tool', async () => {
      const store = await open();
      const wf = await defineWorkflow(store);
      const { run } = await store.createRun({ workflowId: wf.id });
      const [task] = (await store.listTasks({ runId: run.id })).items;
      const rec = await store.recordToolExecution({ taskId: task!.id, runId: run.id, toolName: 'search', arguments: { q: 'baton' } });
      expect(rec).toMatchObject({ status: 'running', output: null, completedAt: null, arguments: { q: 'baton' } });
      const done = await store.finishToolExecution(rec.id, { status: 'completed', output: { hits: 3 }, durationMs: 12 });
      expect(done).toMatchObject({ status: 'completed', output: { hits: 3 }, durationMs: 12 });
      expect(done.completedAt).not.toBeNull();
      await store.recordToolExecution({ toolName: 'other', arguments: [] });
      expect((await store.listToolExecutions({ taskId: task!.id })).items.map((t) => t.id)).toEqual([rec.id]);
      expect((await store.listToolExecutions({ runId: run.id })).items).toHaveLength(1);
      expect((await store.listToolExecutions({ toolName: 'other' })).items).toHaveLength(1);
      expect((await store.listToolExecutions()).items).toHaveLength(2);
      await expect(store.finishToolExecution('ghost', { status: 'failed', durationMs: 1 })).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}
