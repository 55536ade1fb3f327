// One chaos worker process: opens the store it is told to, runs 'chaos' tasks,
// and prints one JSON line per event the conductor counts (start, end, crash).
import { createBaton, type Store } from '@baton/core';
import type { WorkerConfig } from './config.js';

const config = JSON.parse(process.argv[2]!) as WorkerConfig;
const say = (event: object) => process.stdout.write(`${JSON.stringify({ ...event, w: config.workerId, t: Date.now() })}\n`);

// A crash is what the suite counts: report it, then die as Node would.
for (const kind of ['unhandledRejection', 'uncaughtException'] as const) {
  process.on(kind, (error) => {
    say({ e: 'crash', kind, error: String((error as Error)?.stack ?? error) });
    process.exit(70);
  });
}

async function openStore(): Promise<Store> {
  if (config.store === 'pg') {
    const { openPgStore } = await import('@baton/store-pg');
    const url = `${config.location}${config.location.includes('?') ? '&' : '?'}application_name=${config.workerId}`;
    return openPgStore({ connectionString: url, schema: config.schema!, poolSize: 4, migrate: false, warn: () => {} });
  }
  if (config.store === 'sqlite') {
    const { openSqliteStore } = await import('@baton/store-sqlite');
    return openSqliteStore({ filename: config.location, migrate: false });
  }
  const { openFileStore } = await import('@baton/store-file');
  return openFileStore({ directory: config.location, lockStaleMs: 2000 });
}

const store = await openStore();
const baton = createBaton({
  store,
  workerId: config.workerId,
  concurrency: config.concurrency,
  leaseMs: config.leaseMs,
  recoverIntervalMs: config.recoverIntervalMs,
  pollIntervalMs: 100,
  logger: { warn() {}, error() {} },
});
// Store errors are expected here (terminated backends, a restarting server, busy files); the worker must ride them out.
baton.on('error', () => {});
await baton.defineWorkflow(
  { name: 'chaos', retry: { maxAttempts: 50, initialDelayMs: 50, backoffFactor: 1 }, steps: [{ name: 'work', taskCount: config.tasks }] },
  {
    work: async (ctx) => {
      say({ e: 'start', task: ctx.task.id, attempt: ctx.attempt });
      await new Promise((r) => setTimeout(r, config.workMs / 2 + Math.random() * config.workMs));
      say({ e: 'end', task: ctx.task.id, attempt: ctx.attempt });
      // What the conductor checks: a completion applied must be the current attempt's.
      return { worker: config.workerId, attempt: ctx.attempt };
    },
  },
);
await baton.start();
say({ e: 'ready' });
