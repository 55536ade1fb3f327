import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Store } from '@baton/core';
import { runStoreConformance } from '@baton/core/store-kit/conformance';
import { openSqliteStore } from '@baton/store-sqlite';

const root = mkdtempSync(join(tmpdir(), 'baton-sqlite-conformance-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const files = new WeakMap<Store, string>();
let n = 0;

runStoreConformance({
  name: 'sqlite',
  async create() {
    const filename = join(root, `store-${++n}.db`);
    const store = await openSqliteStore({ filename });
    files.set(store, filename);
    return store;
  },
  async openAgain(store) {
    const filename = files.get(store)!;
    const other = await openSqliteStore({ filename });
    files.set(other, filename);
    return other;
  },
});
