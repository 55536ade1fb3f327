/**
 * Microlight rebuilt on Baton: an HTTP service on the SQLite default, or on
 * PostgreSQL when BATON_PG_URL is set. `pnpm --filter @baton/example-task-runner start`.
 */
import type { Store } from '@baton/core';
import { createApp } from './app.js';

async function openStore(): Promise<Store> {
  if (process.env.BATON_PG_URL) {
    const { openPgStore } = await import('@baton/store-pg');
    return openPgStore({ connectionString: process.env.BATON_PG_URL });
  }
  const { openSqliteStore } = await import('@baton/store-sqlite');
  return openSqliteStore({ filename: process.env.BATON_DB ?? '.baton/task-runner.db' });
}

const store = await openStore();
const webhookSecret = process.env.WEBHOOK_SECRET ?? 'change-me';
const app = await createApp({ store, webhookSecret });
const port = Number(process.env.PORT ?? 3000);
app.server.listen(port, '127.0.0.1', () => {
  console.log(`task-runner on http://127.0.0.1:${port} (store: ${store.kind}); tasks: greet, slow, heartbeat (cron)`);
  console.log(`try: curl -X POST localhost:${port}/api/tasks/greet -d '{"name":"Ada"}'`);
  console.log(`dashboard: http://127.0.0.1:${port}/baton/`);
});
app.baton.on('run:finished', (e) => console.log(`run ${e.runId} ${e.status}`));
const shutdown = async () => {
  await app.close();
  await store.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
