import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openFileStore } from '@baton/store-file';
import type { Run, Store, Task } from '@baton/core';
import { fixture, makeDir, removeDir, spawnTs, type Child } from './helpers.js';

const KILLS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir = '';
afterEach(async () => {
  await removeDir(dir);
});

/** Every file under `root`, recursively, relative to it. */
async function allFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1));
}

/** True when the kill interrupted a commit: staged or temporary files, or a journal not yet applied. */
async function interruptedCommit(root: string): Promise<boolean> {
  // Lock internals (store.lock*) are not store data.
  const files = (await allFiles(root)).filter((f) => !f.startsWith('store.lock'));
  if (files.some((f) => /\.tmp$/.test(f) || /\.json\.\d+$/.test(f))) return true;
  const { generation } = JSON.parse(await readFile(join(root, 'generation.json'), 'utf8'));
  return files.includes(`journal/${String(generation + 1).padStart(12, '0')}.json`);
}

async function everyJsonFileParses(root: string): Promise<number> {
  const files = (await allFiles(root)).filter((f) => f.endsWith('.json'));
  for (const file of files) {
    const text = await readFile(join(root, file), 'utf8');
    expect(() => JSON.parse(text), file).not.toThrow();
  }
  return files.length;
}

async function all<T>(page: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const p = await page(cursor);
    out.push(...p.items);
    cursor = p.nextCursor;
  } while (cursor);
  return out;
}

/** What atomic multi-file commits guarantee: a run and its tasks and its counters always agree. */
async function checkRuns(store: Store): Promise<Run[]> {
  const runs = await all((cursor) => store.listRuns({ cursor, limit: 1000 }));
  for (const run of runs) {
    const tasks: Task[] = await all((cursor) => store.listTasks({ runId: run.id, cursor, limit: 1000 }));
    expect(tasks.length, `tasks of run ${run.id}`).toBe(run.tasksTotal);
    const ended = tasks.filter((t) => ['success', 'failed', 'cancelled', 'timeout'].includes(t.status));
    expect(run.tasksFinished, `finished tasks of run ${run.id}`).toBe(ended.length);
    expect(run.tasksFailed, `failed tasks of run ${run.id}`).toBe(ended.filter((t) => t.status !== 'success').length);
    const finished = ['success', 'failed', 'cancelled', 'timeout'].includes(run.status);
    expect(finished, `status of run ${run.id}`).toBe(run.tasksFinished === run.tasksTotal);
    // A successful fan step unblocks its dependent in the same commit.
    const fanDone = tasks.filter((t) => t.stepName === 'fan').every((t) => t.status === 'success');
    const after = tasks.find((t) => t.stepName === 'after')!;
    expect(after.status === 'waiting', `dependent of run ${run.id}`).toBe(
      !fanDone && !tasks.some((t) => t.stepName === 'fan' && t.status === 'failed'),
    );
  }
  return runs;
}

describe('a writer process killed mid-write', () => {
  it(`leaves every file whole and every commit all-or-nothing, ${KILLS} kills in a row`, async () => {
    dir = await makeDir();
    const setup = await openFileStore({ directory: dir });
    const workflow = await setup.createWorkflow({
      name: 'crash',
      executor: 'function',
      steps: [
        { name: 'fan', taskCount: 3, retry: { maxAttempts: 1 } },
        { name: 'after', dependsOn: ['fan'] },
      ],
    });
    await setup.close();

    let interrupted = 0;
    const spawned: Child[] = [];
    const start = () => {
      const child = spawnTs(fixture('writer.ts'), [dir, workflow.id]);
      spawned.push(child);
      return child;
    };
    const warming = [start(), start()];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const writer = warming.shift()!;
        await writer.line((l) => l === 'loaded');
        if (kill + warming.length < KILLS - 1) warming.push(start());
        // Each writer opens the folder its predecessor died in: it replays the journal and takes the dead owner's lock.
        writer.process.stdin!.write('go\n');
        await writer.line((l) => l === 'ready');
        await sleep(5 + Math.random() * 120);
        writer.process.kill('SIGKILL');
        const { signal } = await writer.exited;
        expect(signal, writer.stderr()).toBe('SIGKILL');
        if (await interruptedCommit(dir)) interrupted++;
        await everyJsonFileParses(dir);
      }
    } finally {
      // On a failed assertion too: no writer outlives the test or writes into the next one's folder.
      for (const child of spawned) child.process.kill('SIGKILL');
      await Promise.all(spawned.map((c) => c.exited));
    }
    // The kills did land inside commits, not only between them.
    expect(interrupted).toBeGreaterThanOrEqual(5);

    const store = await openFileStore({ directory: dir });
    try {
      expect(await interruptedCommit(dir)).toBe(false);
      expect(await everyJsonFileParses(dir)).toBeGreaterThan(10);
      const runs = await checkRuns(store);
      expect(runs.length).toBeGreaterThan(KILLS / 2);
      const logIds = (await Promise.all(runs.map((r) => all((cursor) => store.listLogs(r.id, { cursor, limit: 1000 })))))
        .flat()
        .map((l) => l.id);
      expect(new Set(logIds).size).toBe(logIds.length);
      // The store still works after all that.
      const { run } = await store.createRun({ workflowId: workflow.id });
      expect((await store.getRun(run.id)).tasksTotal).toBe(4);
    } finally {
      await store.close();
    }
  });
});
