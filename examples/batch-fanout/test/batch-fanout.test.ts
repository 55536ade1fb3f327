import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openSqliteStore } from '@baton/store-sqlite';
import { runFanout } from '../src/main.js';

it('examples/batch-fanout: a fan-out over the process and Cloud Run executors, tasks pending → dispatched → running → success', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-fanout-'));
  const store = await openSqliteStore({ filename: join(dir, 'fanout.db') });
  try {
    const lines: string[] = [];
    const { runs, transitions } = await runFanout({ store, shards: 3, print: (l) => lines.push(l) });
    expect(runs.map((r) => [r.workflowName, r.status, r.tasksFinished])).toEqual([
      ['fanout-process', 'success', 3],
      ['fanout-cloudrun', 'success', 3],
    ]);
    for (const name of ['fanout-process', 'fanout-cloudrun']) {
      for (const history of Object.values(transitions[name]!)) {
        expect(history.at(-1)).toBe('success');
        // Statuses only move forward through Ork's states.
        const order = ['pending', 'dispatched', 'running', 'success'];
        expect(history.map((s) => order.indexOf(s))).toEqual([...history.map((s) => order.indexOf(s))].sort());
      }
    }
    // The slow Cloud Run tasks are seen running with their execution name.
    expect(Object.values(transitions['fanout-cloudrun']!).some((h) => h.includes('running'))).toBe(true);
    const processRun = runs[0]!;
    const tasks = (await store.listTasks({ runId: processRun.id })).items;
    expect(tasks.map((t) => t.output)).toEqual([0, 1, 2].map((i) => ({ shard: i, rows: (i + 1) * 100 })));
    expect(tasks.every((t) => t.executionName !== null)).toBe(true);
    const logs = (await store.listLogs(processRun.id, { limit: 100 })).items.map((l) => l.content);
    expect(logs).toContain('shard 2 processed 300 rows');
    const cloud = (await store.listTasks({ runId: runs[1]!.id })).items;
    expect(cloud.every((t) => t.executionName?.includes('/executions/'))).toBe(true);
    expect(lines.join('\n')).toContain('Summary');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
