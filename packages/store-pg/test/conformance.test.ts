import { afterAll, describe, it } from 'vitest';
import type { Store } from '@baton/core';
import { runStoreConformance } from '@baton/core/store-kit/conformance';
import { openPgStore } from '@baton/store-pg';
import { PG_URL, dropSchemas, pgAvailable, schemaName } from './pg.js';

const available = await pgAvailable();
const schemas = new Set<string>();
const schemaOf = new WeakMap<Store, string>();
afterAll(() => dropSchemas(schemas));

if (available) {
  runStoreConformance({
    name: 'pg',
    async create() {
      const schema = schemaName();
      schemas.add(schema);
      const store = await openPgStore({ connectionString: PG_URL, schema, poolSize: 4 });
      schemaOf.set(store, schema);
      return store;
    },
    async openAgain(store) {
      const schema = schemaOf.get(store)!;
      const other = await openPgStore({ connectionString: PG_URL, schema, poolSize: 4 });
      schemaOf.set(other, schema);
      return other;
    },
  });
} else {
  describe('pg store', () => it('is skipped: no PostgreSQL reachable (see the warning above)', () => {}));
}
