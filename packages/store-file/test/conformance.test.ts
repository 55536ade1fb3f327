import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Store } from '@baton/core';
import { runStoreConformance } from '@baton/core/store-kit/conformance';
import { openFileStore } from '@baton/store-file';

const root = mkdtempSync(join(tmpdir(), 'baton-file-conformance-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const folders = new WeakMap<Store, string>();
let n = 0;

runStoreConformance({
  name: 'file',
  // A file a record, each written durably: 6,000 runs of two tasks take ~20 s here.
  bulkRuns: 300,
  async create() {
    const directory = join(root, `store-${++n}`);
    const store = await openFileStore({ directory });
    folders.set(store, directory);
    return store;
  },
  async openAgain(store) {
    const directory = folders.get(store)!;
    const other = await openFileStore({ directory });
    folders.set(other, directory);
    return other;
  },
});
