import { afterEach, describe, expect, it } from 'vitest';
import { openFileStore } from '@baton/store-file';
import { fixture, makeDir, removeDir, spawnTs, type Child } from './helpers.js';

const TASKS = 150;

let dir = '';
let children: Child[] = [];
afterEach(async () => {
  for (const c of children) c.process.kill('SIGKILL');
  children = [];
  await removeDir(dir);
});

describe('two processes claiming from one folder', () => {
  it('never get the same task: every task is claimed exactly once', async () => {
    dir = await makeDir();
    const store = await openFileStore({ directory: dir });
    const workflow = await store.createWorkflow({ name: 'shared', executor: 'function', steps: [{ name: 'many', taskCount: TASKS }] });
    const { run } = await store.createRun({ workflowId: workflow.id });

    children = ['alpha', 'beta'].map((name) => spawnTs(fixture('claimer.ts'), [dir, name]));
    await Promise.all(children.map((c) => c.line((l) => l === 'ready')));
    for (const c of children) c.process.stdin!.write('go\n');
    await Promise.all(children.map((c) => c.line((l) => l === 'done')));
    const exits = await Promise.all(children.map((c) => c.exited));
    expect(
      exits.map((e) => e.code),
      children.map((c) => c.stderr()).join('\n'),
    ).toEqual([0, 0]);

    const claimedBy = new Map<string, string[]>();
    children.forEach((c, i) => {
      expect(c.lines).not.toContain('rejected');
      for (const line of c.lines.filter((l) => l.startsWith('claimed '))) {
        const [, taskId, attempt] = line.split(' ');
        expect(attempt).toBe('1');
        claimedBy.set(taskId!, [...(claimedBy.get(taskId!) ?? []), ['alpha', 'beta'][i]!]);
      }
    });
    expect(claimedBy.size).toBe(TASKS);
    expect([...claimedBy.values()].filter((by) => by.length !== 1)).toEqual([]);
    // Both really took part.
    const counts = ['alpha', 'beta'].map((name) => [...claimedBy.values()].filter((by) => by[0] === name).length);
    expect(Math.min(...counts)).toBeGreaterThan(0);

    // This handle catches up with both processes' commits.
    const finished = await store.getRun(run.id);
    expect(finished).toMatchObject({ status: 'success', tasksFinished: TASKS, tasksFailed: 0 });
    const tasks = (await store.listTasks({ runId: run.id, limit: 1000 })).items;
    for (const task of tasks) {
      expect(task).toMatchObject({ status: 'success', attempt: 1 });
      expect(task.output).toBe(claimedBy.get(task.id)![0]);
    }
    await store.close();
  });
});
