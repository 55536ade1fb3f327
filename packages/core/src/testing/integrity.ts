import { expect } from 'vitest';
import { ConflictError, ValidationError } from '../errors.js';
import { sleep, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

/**
 * What an auditor relies on: finished audit records stay as written, expiry
 * touches only what it is asked to, and references are checked at the call.
 */
export function integrityCases(factory: StoreFactory): void {
  suite(factory, 'audit integrity', (test, { open, again }) => {
    test('a finished tool execution is immutable: finishing it again is a ConflictError and changes nothing', async () => {
      const store = await open();
      for (const status of ['completed', 'failed', 'timeout'] as const) {
        const rec = await store.recordToolExecution({ toolName: `t-${status}`, arguments: { n: 1 } });
        const done = await store.finishToolExecution(rec.id, {
          status,
          output: status === 'completed' ? { ok: true } : null,
          error: status === 'completed' ? null : 'boom',
          durationMs: 7,
        });
        for (const other of ['completed', 'failed', 'timeout'] as const) {
          await expect(
            store.finishToolExecution(rec.id, { status: other, output: { rewritten: true }, error: 'rewritten', durationMs: 99 }),
          ).rejects.toBeInstanceOf(ConflictError);
        }
        const [after] = (await store.listToolExecutions({ toolName: `t-${status}` })).items;
        expect(after).toEqual(done);
      }
    });

    test('two handles finishing one tool execution at once: exactly one wins, and its end is what is stored', async () => {
      const store = await open();
      const other = await again(store);
      for (let round = 0; round < 5; round++) {
        const rec = await store.recordToolExecution({ toolName: 'race', arguments: { round } });
        const results = await Promise.allSettled([
          store.finishToolExecution(rec.id, { status: 'completed', output: { by: 'a' }, durationMs: 1 }),
          other.finishToolExecution(rec.id, { status: 'failed', error: 'by b', durationMs: 2 }),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
        const stored = (await store.listToolExecutions({ toolName: 'race' })).items.find((t) => t.id === rec.id);
        expect(stored).toEqual((won[0] as PromiseFulfilledResult<unknown>).value);
      }
    });

    test('expiring sessions of one connection type leaves the others active', async () => {
      const store = await open();
      await store.registerSession({ id: 'dead-worker', clientId: 'w', connectionType: 'worker' });
      await store.registerSession({ id: 'browser', clientId: 'b', connectionType: 'websocket' });
      await store.registerSession({ id: 'api-client', clientId: 'h', connectionType: 'http' });
      await sleep(5);
      expect(await store.expireSessions(new Date(), { connectionType: 'worker' })).toBe(1);
      expect((await store.listSessions({ activeOnly: true })).map((s) => s.id).sort()).toEqual(['api-client', 'browser']);
      expect(await store.expireSessions(new Date())).toBe(2);
    });
  });

  suite(factory, 'references', (test, { open }) => {
    test('a payload naming a block that does not exist is refused at the call, naming the reference; nothing is written', async () => {
      const store = await open();
      const block = await store.createBlock({ title: 'Intro', content: 'Hello' });
      const error = await store.createPayload({ name: 'p', blocks: [{ blockId: block.id }, { blockId: 'no-such-block' }] }).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.field).toBe('blocks.1.blockId');
      expect(error.message).toContain('no-such-block');
      expect((await store.listPayloads()).items).toEqual([]);
      const payload = await store.createPayload({ name: 'p', blocks: [{ blockId: block.id }, { tag: 'not-yet-used' }] });
      await expect(store.updatePayload(payload.id, { blocks: [{ blockId: 'gone' }] })).rejects.toMatchObject({ field: 'blocks.0.blockId' });
      expect((await store.getPayload(payload.id)).blocks).toEqual([{ blockId: block.id }, { tag: 'not-yet-used' }]);
    });
  });
}
