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
// No default secret: without WEBHOOK_SECRET the webhook route answers 503 instead of
// accepting a secret everyone can read here. createApp refuses one shorter than 16 characters.
const webhookSecret = process.env.WEBHOOK_SECRET || undefined;
if (!webhookSecret) console.warn('task-runner: WEBHOOK_SECRET is not set, so webhooks are refused (503)');
const app = await createApp({ store, webhookSecret }).catch(async (error) => {
  await store.close();
  console.error(`task-runner: ${(error as Error).message}`);
  process.exit(1);
});
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
