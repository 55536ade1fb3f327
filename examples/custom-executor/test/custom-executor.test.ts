import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DefinitionError, createBaton } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';
import { jsonlExecutor } from '../src/file-executor.js';
import { runCustom } from '../src/main.js';

it('examples/custom-executor: an executor under 40 lines, registered by name and used by a workflow', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-custom-'));
  const store = await openSqliteStore({ filename: join(dir, 'custom.db') });
  try {
    const path = join(dir, 'out', 'export.jsonl');
    const run = await runCustom({ store, path, print: () => {} });
    expect(run.status).toBe('success');
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.params.sku).sort()).toEqual(['a-1', 'b-2', 'c-3']);
    const tasks = (await store.listTasks({ runId: run.id })).items;
    expect(tasks.every((t) => (t.output as { path: string }).path === path)).toBe(true);
    const baton = createBaton({ store, executors: [jsonlExecutor()] });
    await expect(baton.defineWorkflow({ name: 'bad', steps: [{ name: 's', executor: 'jsonl', config: {} }] })).rejects.toBeInstanceOf(
      DefinitionError,
    );
    const source = readFileSync(new URL('../src/file-executor.ts', import.meta.url), 'utf8');
    expect(source.split('\n').length).toBeLessThan(40);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
