/**
 * Serves the dashboard over the demo's SQLite file, read-only: `pnpm dashboard`
 * from the repository root after `pnpm demo`, then open the printed URL.
 */
import { createServer } from 'node:http';
import { createDashboard } from '@baton/dashboard';
import { openSqliteStore } from '@baton/store-sqlite';

const filename = process.env.BATON_DB ?? '.baton/baton.db';
const port = Number(process.env.PORT ?? 4000);
const store = await openSqliteStore({ filename });
// No `authorize`: read-only. No worker runs here, so a retry or trigger would wait for one
// (the task-runner example mounts the dashboard with actions beside its workers).
const dashboard = createDashboard({ store });
const server = createServer(dashboard.node).listen(port, '127.0.0.1', () => {
  console.log(`Baton dashboard (read-only) over ${filename}: http://127.0.0.1:${port}/   (Ctrl-C to stop)`);
});
process.on('SIGINT', () => server.close(() => void store.close().then(() => process.exit(0))));
