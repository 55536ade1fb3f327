import { createBaton } from '@baton/core';
import { openPgStore } from '@baton/store-pg';
import { openSqliteStore } from '@baton/store-sqlite';
import { freshPgDatabase } from './databases.js';
const kind = process.argv[2] ?? 'pg';
const db = kind === 'pg' ? await freshPgDatabase('postgres://postgres@127.0.0.1:5432/test', 'baton_issue11_prof') : undefined;
const store = db
  ? await openPgStore({ connectionString: db.url })
  : await openSqliteStore({ filename: `/tmp/issue11-prof/${Date.now()}.db` });
const baton = createBaton({ store, concurrency: 50, logger: { warn() {}, error() {} } });
await baton.defineWorkflow({ name: 'single', steps: [{ name: 's' }] }, { s: async () => null });
await baton.triggerMany(
  'single',
  Array.from({ length: 10000 }, () => ({})),
);
const start = performance.now();
await baton.start();
for (;;) {
  if (
    (await store.listRuns({ status: 'pending', limit: 1 })).items.length === 0 &&
    (await store.listRuns({ status: 'running', limit: 1 })).items.length === 0
  )
    break;
  await new Promise((r) => setTimeout(r, 20));
}
console.log(kind, 'singles/s', Math.round(10000 / ((performance.now() - start) / 1000)));
await baton.stop();
await store.close();
await db?.drop();
