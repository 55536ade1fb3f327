import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBaton, type Baton, type Store } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';
import { chromium, type Browser } from 'playwright-core';
// Built before any server starts: a fresh clone's `pnpm test` needs no prior `pnpm build`.
// @ts-expect-error: a plain .mjs build script, no types.
import { buildUi } from '../scripts/build-ui.mjs';
import { createDashboard } from '../src/index.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface Site {
  url: string;
  store: Store;
  baton: Baton;
  server: Server;
  close(): Promise<void>;
}

/**
 * A real server on 127.0.0.1 over a real SQLite file: the dashboard mounted
 * with actions allowed at `/baton`, and read-only (no `authorize`) at `/readonly`,
 * beside a host route of its own.
 */
export async function startSite(setup: (baton: Baton, store: Store) => Promise<void>): Promise<Site> {
  await buildUi({ quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'baton-dashboard-'));
  const store = await openSqliteStore({ filename: join(dir, 'baton.db') });
  const baton = createBaton({ store, leaseMs: 2000, pollIntervalMs: 50, logger: { warn: () => {}, error: () => {} } });
  await setup(baton, store);
  await baton.start();
  const admin = createDashboard({ store, baton, basePath: '/baton', authorize: () => true });
  const readonly = createDashboard({ store, baton, basePath: '/readonly' });
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/baton')) return admin.node(req, res);
    if (req.url?.startsWith('/readonly')) return readonly.node(req, res);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('the host app');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    baton,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await baton.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
