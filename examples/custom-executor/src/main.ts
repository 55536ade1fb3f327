/** Registers the custom `jsonl` executor and runs a workflow that uses it. */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createBaton, type Run, type Store } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';
import { jsonlExecutor } from './file-executor.js';

export async function runCustom({
  store,
  path,
  print = console.log,
}: {
  store: Store;
  path: string;
  print?: (l: string) => void;
}): Promise<Run> {
  const baton = createBaton({ store, executors: [jsonlExecutor()] });
  try {
    await baton.defineWorkflow({
      name: 'export-lines',
      steps: [{ name: 'write', executor: 'jsonl', config: { path }, paramsList: [{ sku: 'a-1' }, { sku: 'b-2' }, { sku: 'c-3' }] }],
    });
    await baton.start();
    const run = await baton.waitForRun((await baton.trigger('export-lines')).id);
    print(`run ${run.status}: ${run.tasksFinished} tasks wrote to ${path}`);
    print(readFileSync(path, 'utf8').trim());
    return run;
  } finally {
    await baton.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const store = await openSqliteStore({ filename: process.env.BATON_DB ?? '.baton/custom-executor.db' });
  const run = await runCustom({ store, path: process.env.OUT ?? '.baton/export.jsonl' });
  await store.close();
  process.exitCode = run.status === 'success' ? 0 : 1;
}
