/**
 * The stores the scheduler's tests run on, chosen by BATON_STORES (as Kysely's
 * tests choose dialects by DIALECTS): a comma-separated list of sqlite, pg and
 * file, all three by default. Each test gets a fresh store of its own, and a
 * spec string a child process opens the same data with (`openSpec`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '@baton/core';
import { openFileStore } from '@baton/store-file';
import { DEFAULT_PG_URL, openPgStore } from '@baton/store-pg';
import { openSqliteStore } from '@baton/store-sqlite';
import { pgKit } from '@baton/test-kit';

const STORE_NAMES = ['sqlite', 'pg', 'file'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

/** Reads BATON_STORES; an unknown name is an error, not a silently smaller run. */
export function chosenStores(value = process.env.BATON_STORES): StoreName[] {
  if (value === undefined || value.trim() === '') return [...STORE_NAMES];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(STORE_NAMES as readonly string[]).includes(name))
      throw new Error(`BATON_STORES: unknown store "${name}" (choose from ${STORE_NAMES.join(', ')})`);
  }
  return names as StoreName[];
}

export const pg = pgKit(process.env.BATON_PG_URL ?? DEFAULT_PG_URL);

/** A fresh store, the spec another process opens it with, and how to remove its data once closed. */
export interface TestStore {
  store: Store;
  /** `sqlite:<file>`, `file:<folder>` or `pg:<url>#<schema>`: what `openSpec` takes. */
  spec: string;
  /** Removes the store's data (file, folder or schema); call after closing every handle. */
  remove(): Promise<void>;
}

export async function freshStore(name: StoreName): Promise<TestStore> {
  if (name === 'pg') {
    const spec = `pg:${pg.url}#${pg.schemaName('baton_sched')}`;
    return { store: await openSpec(spec), spec, remove: () => pg.dropSchemas([spec.split('#')[1]!]) };
  }
  const dir = mkdtempSync(join(tmpdir(), `baton-sched-${name}-`));
  const spec = name === 'sqlite' ? `sqlite:${join(dir, 'baton.db')}` : `file:${join(dir, 'store')}`;
  return { store: await openSpec(spec), spec, remove: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Opens the store a spec names (in this process or a child worker). */
export function openSpec(spec: string): Promise<Store> {
  const colon = spec.indexOf(':');
  const [kind, rest] = [spec.slice(0, colon), spec.slice(colon + 1)];
  if (kind === 'sqlite') return openSqliteStore({ filename: rest });
  if (kind === 'file') return openFileStore({ directory: rest });
  if (kind === 'pg') {
    const hash = rest.lastIndexOf('#');
    return openPgStore({ connectionString: rest.slice(0, hash), schema: rest.slice(hash + 1), poolSize: 4, warn: () => {} });
  }
  throw new Error(`not a store spec: "${spec}" (sqlite:<file>, file:<folder> or pg:<url>#<schema>)`);
}
