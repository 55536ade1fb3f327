import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, StoreClosedError, ValidationError, type Store } from '@baton/core';
import { openFileStore } from '@baton/store-file';
import { makeDir, removeDir } from './helpers.js';

let dir = '';
let store: Store;
beforeEach(async () => {
  dir = await makeDir();
  store = await openFileStore({ directory: dir });
});
afterEach(async () => {
  await store.close();
  await removeDir(dir);
});

const readJson = async (...path: string[]) => JSON.parse(await readFile(join(dir, ...path), 'utf8'));
const generation = async () => (await readJson('generation.json')).generation as number;

describe('the folder layout', () => {
  it('keeps one readable JSON file per record, times as ISO strings', async () => {
    const workflow = await store.createWorkflow({ name: 'layout', executor: 'function', steps: [{ name: 'a', taskCount: 2 }] });
    const { run } = await store.createRun({ workflowId: workflow.id, inputs: { city: 'Oslo' } });
    const tasks = (await store.listTasks({ runId: run.id })).items;
    await store.appendLogs([{ runId: run.id, taskId: tasks[0]!.id, type: 'info', content: 'hello' }]);
    const block = await store.createBlock({ title: 'b', tags: ['x'] });
    const payload = await store.createPayload({ name: 'p', blocks: [{ blockId: block.id }] });
    await store.setConfig({ key: 'Mail/SMTP:host', value: 'smtp.example', isSecret: true });
    const session = await store.registerSession({ clientId: 'c', connectionType: 'worker' });
    const tool = await store.recordToolExecution({ toolName: 'grep', arguments: ['-r'] });

    expect(await readJson('workflows', `${workflow.id}.json`)).toMatchObject({ name: 'layout', steps: [{ name: 'a', taskCount: 2 }] });
    const runFile = await readJson('runs', `${run.id}.json`);
    expect(runFile).toMatchObject({ inputs: { city: 'Oslo' }, tasksTotal: 2, createdAt: run.createdAt.toISOString() });
    expect(await readJson('run-steps', `${run.id}.json`)).toMatchObject({
      steps: [{ name: 'a', taskCount: 2, succeeded: 0, depsRemaining: 0 }],
    });
    for (const t of tasks)
      expect(await readJson('tasks', `${t.id}.json`)).toMatchObject({ runId: run.id, status: 'pending', runAt: t.runAt.toISOString() });
    expect(await readJson('logs', run.id, '000000000001.json')).toMatchObject({
      runId: run.id,
      logs: [{ id: 1, type: 'info', content: 'hello' }],
    });
    expect(await readJson('blocks', `${block.id}.json`)).toMatchObject({ title: 'b', tags: ['x'] });
    expect(await readJson('payloads', `${payload.id}.json`)).toMatchObject({ name: 'p' });
    expect(await readJson('sessions', `${session.id}.json`)).toMatchObject({ clientId: 'c' });
    expect(await readJson('tool-executions', `${tool.id}.json`)).toMatchObject({ toolName: 'grep' });
    // A key with '/', ':' and capitals gets a safe, case-proof file name; the exact key is inside.
    const [configFile] = await readdir(join(dir, 'config'));
    expect(configFile).toMatch(/^mail_smtp_host~[0-9a-f]{16}\.json$/);
    expect(await readJson('config', configFile!)).toMatchObject({ key: 'Mail/SMTP:host', value: 'smtp.example' });
    // Pretty-printed, so a person can read and diff it.
    expect(await readFile(join(dir, 'runs', `${run.id}.json`), 'utf8')).toContain('\n  "status": "pending",\n');
  });

  it('refuses a folder that holds other things, and bad options, with a ValidationError naming the field', async () => {
    const foreign = await makeDir();
    try {
      await writeFile(join(foreign, 'thesis.docx'), 'precious');
      const error = await openFileStore({ directory: foreign }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('directory');
      expect(await readdir(foreign)).toEqual(['thesis.docx']);
    } finally {
      await removeDir(foreign);
    }
    await expect(openFileStore({ directory: '' })).rejects.toMatchObject({ field: 'directory' });
    await expect(openFileStore({ directory: dir, lockStaleMs: 100 })).rejects.toMatchObject({ field: 'lockStaleMs' });
  });

  it('answers logs of an unknown run, or of a path-like run id, with nothing', async () => {
    expect(await store.listLogs('../../..')).toEqual({ items: [], nextCursor: null });
    expect(await store.listLogs('no-such-run')).toEqual({ items: [], nextCursor: null });
  });

  it('fails calls after close with StoreClosedError', async () => {
    await store.close();
    await expect(store.listConfig()).rejects.toBeInstanceOf(StoreClosedError);
    await expect(store.setConfig({ key: 'k', value: 1 })).rejects.toBeInstanceOf(StoreClosedError);
    await store.close();
  });
});

describe('transactions', () => {
  it('write nothing when the callback throws, in memory or on disk', async () => {
    const before = await generation();
    await expect(
      store.transaction(async (tx) => {
        await tx.createBlock({ title: 'doomed' });
        await tx.setConfig({ key: 'doomed', value: true });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await store.listBlocks()).items).toEqual([]);
    await expect(store.getConfig('doomed')).rejects.toBeInstanceOf(NotFoundError);
    expect(await readdir(join(dir, 'blocks'))).toEqual([]);
    expect(await generation()).toBe(before);
  });

  it('commit as one journal entry that another handle sees whole', async () => {
    const other = await openFileStore({ directory: dir });
    try {
      const before = await generation();
      const block = await store.transaction(async (tx) => {
        const b = await tx.createBlock({ title: 'kept' });
        await tx.setConfig({ key: 'kept', value: 1 });
        // An operation that fails inside the transaction undoes only itself.
        await expect(tx.updateBlock('no-such-block', { title: 'x' })).rejects.toBeInstanceOf(NotFoundError);
        // Reads inside see the transaction's own writes.
        expect((await tx.getBlock(b.id)).title).toBe('kept');
        return b;
      });
      expect(await generation()).toBe(before + 1);
      const journal = await readJson('journal', `${String(before + 1).padStart(12, '0')}.json`);
      expect(journal.writes.sort()).toEqual([`blocks/${block.id}.json`, 'config/kept.json'].sort());
      expect((await other.getBlock(block.id)).title).toBe('kept');
      expect((await other.getConfig('kept')).value).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('are joined by calls the callback makes on the store itself, instead of waiting for themselves', async () => {
    await expect(
      store.transaction(async () => {
        await store.createBlock({ title: 'joined' });
        expect((await store.listBlocks()).items.map((b) => b.title)).toEqual(['joined']);
        throw new Error('roll it all back');
      }),
    ).rejects.toThrow('roll it all back');
    expect((await store.listBlocks()).items).toEqual([]);
  });

  it('serialize calls made at once on one handle', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.setConfig({ key: `k${i}`, value: i })));
    const reopened = await openFileStore({ directory: dir });
    expect((await reopened.listConfig()).map((c) => c.value).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    await reopened.close();
  });
});

describe('recovery on open', () => {
  it('completes a commit whose journal was written but not applied, and drops staged files no journal names', async () => {
    const block = await store.createBlock({ title: 'before' });
    await store.close();
    const g = await generation();
    const blockPath = `blocks/${block.id}.json`;
    const onDisk = await readJson(blockPath);
    // What a process killed right after the commit point leaves: staged files and their journal.
    await writeFile(join(dir, `${blockPath}.${g + 1}.tmp`), JSON.stringify({ ...onDisk, title: 'after' }));
    await writeFile(
      join(dir, `config/late.json.${g + 1}.tmp`),
      JSON.stringify({
        key: 'late',
        value: 7,
        valueType: 'integer',
        description: null,
        isSecret: false,
        createdAt: onDisk.createdAt,
        updatedAt: onDisk.createdAt,
      }),
    );
    await writeFile(
      join(dir, 'journal', `${String(g + 1).padStart(12, '0')}.json`),
      JSON.stringify({ generation: g + 1, nextLogId: 1, writes: [blockPath, 'config/late.json'], deletes: [] }),
    );
    // And what one killed before its commit point leaves: a staged file nobody journaled, and write-file-atomic's temp file.
    await writeFile(join(dir, `${blockPath}.${g + 2}.tmp`), '{"title": "never committed", "trunc');
    await writeFile(join(dir, `generation.json.123456`), '{"gen');
    await writeFile(join(dir, 'blocks', 'README.txt'), 'a note someone left: not ours to delete');

    store = await openFileStore({ directory: dir });
    expect((await store.getBlock(block.id)).title).toBe('after');
    expect((await store.getConfig('late')).value).toBe(7);
    expect(await generation()).toBe(g + 1);
    expect((await readdir(join(dir, 'blocks'))).sort()).toEqual([`${block.id}.json`, 'README.txt'].sort());
    expect(await readdir(dir)).not.toContain('generation.json.123456');
  });

  it('lets a handle that fell behind by more than the kept journals reload everything', async () => {
    const other = await openFileStore({ directory: dir });
    try {
      await other.setConfig({ key: 'seen', value: 0 });
      for (let i = 0; i < 205; i++) await store.setConfig({ key: `n${i % 7}`, value: i });
      const values = Object.fromEntries((await other.listConfig()).map((c) => [c.key, c.value]));
      expect(values).toMatchObject({ seen: 0, n0: 203, n6: 202 });
      expect((await readdir(join(dir, 'journal'))).length).toBeLessThanOrEqual(200);
    } finally {
      await other.close();
    }
  });
});
