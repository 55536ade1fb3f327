import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';

/** A real SQLite store in a fresh temp folder; `dispose` closes and removes it. */
export async function tempSqliteStore(): Promise<{ store: Store; dispose: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-executors-'));
  const store = await openSqliteStore({ filename: join(dir, 'baton.db') });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
