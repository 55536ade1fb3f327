import { copyFile, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptDataError, type Store } from '@baton/core';
import { openFileStore } from '@baton/store-file';
import { makeDir, removeDir } from './helpers.js';

let dir = '';
let store: Store;
let taskFile = '';

beforeEach(async () => {
  dir = await makeDir();
  store = await openFileStore({ directory: dir });
  const workflow = await store.createWorkflow({ name: 'w', executor: 'function', steps: [{ name: 's' }] });
  const { run } = await store.createRun({ workflowId: workflow.id });
  const [task] = (await store.listTasks({ runId: run.id })).items;
  taskFile = join(dir, 'tasks', `${task!.id}.json`);
});
afterEach(async () => {
  await store.close();
  await removeDir(dir);
});

async function openError(): Promise<CorruptDataError> {
  const error = await openFileStore({ directory: dir }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CorruptDataError);
  return error as CorruptDataError;
}

describe('a corrupt or hand-edited file', () => {
  it('that is not JSON fails the open with a CorruptDataError naming the file, and is left as it was', async () => {
    await writeFile(taskFile, '{ "id": "half a task", ');
    const error = await openError();
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.location).toBe(taskFile);
    expect(error.message).toContain(taskFile);
    expect(error.message).toContain('not valid JSON');
    expect(await readFile(taskFile, 'utf8')).toBe('{ "id": "half a task", ');
  });

  it('that is JSON but not a valid record names the file and the field', async () => {
    const task = JSON.parse(await readFile(taskFile, 'utf8'));
    await writeFile(taskFile, JSON.stringify({ ...task, status: 'finished-ish' }));
    const error = await openError();
    expect(error.location).toBe(taskFile);
    expect(error.message).toMatch(/field "status" must be one of waiting, pending/);
  });

  it('with a bad date names the field', async () => {
    const task = JSON.parse(await readFile(taskFile, 'utf8'));
    await writeFile(taskFile, JSON.stringify({ ...task, runAt: 'next tuesday' }));
    expect((await openError()).message).toMatch(/field "runAt" must be an ISO date/);
  });

  it('with a field the record does not have (a typo) names that field, and is left as it was', async () => {
    const task = JSON.parse(await readFile(taskFile, 'utf8'));
    const edited = JSON.stringify({ ...task, stauts: 'pending' });
    await writeFile(taskFile, edited);
    const error = await openError();
    expect(error.location).toBe(taskFile);
    expect(error.message).toMatch(/field "stauts" is not a field of this record/);
    expect(await readFile(taskFile, 'utf8')).toBe(edited);
  });

  it('with a bad value deep inside names its path', async () => {
    const stepsFile = join(dir, 'run-steps', `${JSON.parse(await readFile(taskFile, 'utf8')).runId}.json`);
    const steps = JSON.parse(await readFile(stepsFile, 'utf8'));
    steps.steps[0].succeeded = 'two';
    await writeFile(stepsFile, JSON.stringify(steps));
    const error = await openError();
    expect(error.location).toBe(stepsFile);
    expect(error.message).toMatch(/field "steps\.0\.succeeded" must be an integer, found "two"/);
  });

  it('written before limits existed (no concurrencyLimit or rateLimit) reads as no limit', async () => {
    const { concurrencyLimit: _c, rateLimit: _r, ...old } = JSON.parse(await readFile(taskFile, 'utf8'));
    await writeFile(taskFile, JSON.stringify(old));
    const reopened = await openFileStore({ directory: dir });
    try {
      const [task] = (await reopened.listTasks({ runId: old.runId })).items;
      expect(task).toMatchObject({ id: old.id, concurrencyLimit: null, rateLimit: null });
    } finally {
      await reopened.close();
    }
  });

  it('copied under another name is refused instead of shadowing the real record', async () => {
    const copy = join(dir, 'tasks', '00000000-copy.json');
    await copyFile(taskFile, copy);
    const error = await openError();
    expect(error.location).toBe(copy);
    expect(error.message).toContain('whose file is tasks/');
  });

  it('met by an open handle catching up with another handle fails that call and is not overwritten', async () => {
    const other = await openFileStore({ directory: dir });
    try {
      const block = await store.createBlock({ title: 'note' });
      const blockFile = join(dir, 'blocks', `${block.id}.json`);
      await writeFile(blockFile, 'not json at all');
      const error = await other.getBlock(block.id).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as CorruptDataError).location).toBe(blockFile);
      // Still refused on the next call: the handle does not skip past the bad file.
      await expect(other.listBlocks()).rejects.toBeInstanceOf(CorruptDataError);
      expect(await readFile(blockFile, 'utf8')).toBe('not json at all');
    } finally {
      await other.close();
    }
  });

  it('in generation.json or the format marker is named too', async () => {
    await writeFile(join(dir, 'generation.json'), '{"generation": "many"}');
    expect((await openError()).location).toBe(join(dir, 'generation.json'));
    await writeFile(join(dir, 'generation.json'), '{"generation": 1, "nextLogId": 1}');
    await writeFile(join(dir, 'baton-store.json'), '{"format": "baton-store-file", "version": 99}');
    const error = await openError();
    expect(error.location).toBe(join(dir, 'baton-store.json'));
    expect(error.message).toContain('newer');
  });
});

describe('a live handle writing over what it relies on', () => {
  it('refuses to write when generation.json was deleted under it, and overwrites no log or journal', async () => {
    const [task] = (await store.listTasks({ runId: (await store.listRuns()).items[0]!.id })).items;
    await store.appendLogs([{ runId: task!.runId, taskId: task!.id, type: 'info', content: 'first' }]);
    const logDir = join(dir, 'logs', task!.runId);
    const before = await readdir(logDir);
    const logText = await readFile(join(logDir, before[0]!), 'utf8');
    await rm(join(dir, 'generation.json'));
    const error = await store.appendLogs([{ runId: task!.runId, taskId: task!.id, type: 'info', content: 'second' }]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as CorruptDataError).location).toBe(join(dir, 'generation.json'));
    expect(await readdir(logDir)).toEqual(before);
    expect(await readFile(join(logDir, before[0]!), 'utf8')).toBe(logText);
    // Refused again, not only once.
    await expect(store.createBlock({ title: 'x' })).rejects.toBeInstanceOf(CorruptDataError);
  });

  it('refuses a generation.json that went back to an older commit (a restored backup without the newer journals)', async () => {
    const old = await readFile(join(dir, 'generation.json'), 'utf8');
    const journals = new Set(await readdir(join(dir, 'journal')));
    await store.createBlock({ title: 'a' });
    await store.createBlock({ title: 'b' });
    // With the newer journals still there the store replays them and nothing is lost; without them it must stop.
    for (const name of await readdir(join(dir, 'journal'))) if (!journals.has(name)) await rm(join(dir, 'journal', name));
    await writeFile(join(dir, 'generation.json'), old);
    const error = await store.createBlock({ title: 'c' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as CorruptDataError).message).toMatch(/went back/);
    await expect(store.createBlock({ title: 'd' })).rejects.toBeInstanceOf(CorruptDataError);
  });

  it('never rewrites a record file that became corrupt after it was loaded: the write fails naming it', async () => {
    await writeFile(taskFile, '{ "id": "torn');
    const [claimed] = await store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 }).then(
      (c) => c,
      (e: unknown) => {
        expect(e).toBeInstanceOf(CorruptDataError);
        expect((e as CorruptDataError).location).toBe(taskFile);
        return [];
      },
    );
    expect(claimed).toBeUndefined();
    expect(await readFile(taskFile, 'utf8')).toBe('{ "id": "torn');
  });
});
