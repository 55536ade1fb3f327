import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ValidationError, type Store } from '@baton/core';
import { UsageError, CliError } from './errors.js';

export const DEFAULT_DB = '.baton/baton.db';

/** Where the store lives, parsed from `--db` / `BATON_DB`. */
export type StoreLocation =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'pg'; url: string; schema?: string }
  | { kind: 'file'; directory: string };

/**
 * `postgres://…` or `postgresql://…` → PostgreSQL, `file:<dir>` → the file
 * store, anything else without a scheme → a SQLite file path.
 */
export function parseLocation(db: string | undefined, schema: string | undefined): StoreLocation {
  const value = db ?? DEFAULT_DB;
  if (value.trim() === '') throw new UsageError('--db must not be empty');
  let location: StoreLocation;
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      if (!url.hostname) throw new Error('no host');
    } catch {
      throw new UsageError(`--db is not a valid PostgreSQL URL: ${redactUrl(value)}`);
    }
    location = { kind: 'pg', url: value, ...(schema !== undefined && { schema }) };
  } else if (value.startsWith('file:')) {
    const directory = value.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (!directory) throw new UsageError('--db file: needs a folder, e.g. file:.baton/store');
    location = { kind: 'file', directory };
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new UsageError(`--db scheme not supported: ${redactUrl(value)} (use a SQLite file path, postgres://… or file:<dir>)`);
  } else {
    location = { kind: 'sqlite', filename: value };
  }
  if (schema !== undefined && location.kind !== 'pg') throw new UsageError('--schema applies to a postgres:// store only');
  return location;
}

/** A connection string without its password, for messages. */
function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

export function describeLocation(location: StoreLocation): string {
  if (location.kind === 'sqlite') return `SQLite ${resolve(location.filename)}`;
  if (location.kind === 'file') return `file store ${resolve(location.directory)}`;
  return `PostgreSQL ${redactUrl(location.url)}${location.schema ? ` (schema ${location.schema})` : ''}`;
}

/**
 * Opens the store. Only `baton migrate` may create a store: every other
 * command refuses a SQLite file or store folder that does not exist yet, so a
 * typo in `--db` is an error rather than a new empty database.
 * Each store package is imported on demand: `baton runs` on SQLite never loads `pg`.
 */
export async function openStore(location: StoreLocation, { create, migrate }: { create: boolean; migrate: boolean }): Promise<Store> {
  try {
    if (location.kind === 'sqlite') {
      if (!create && location.filename !== ':memory:' && !existsSync(location.filename)) {
        throw new CliError(`no Baton database at ${resolve(location.filename)} (create it with: baton migrate, or pass --db)`);
      }
      const { openSqliteStore } = await import('@baton/store-sqlite');
      return await openSqliteStore({ filename: location.filename, migrate });
    }
    if (location.kind === 'file') {
      if (!create && !existsSync(location.directory)) {
        throw new CliError(`no Baton file store at ${resolve(location.directory)} (create it with: baton migrate, or pass --db)`);
      }
      const { openFileStore } = await import('@baton/store-file');
      return await openFileStore({ directory: location.directory });
    }
    const { openPgStore } = await import('@baton/store-pg');
    const store = await openPgStore({
      connectionString: location.url,
      ...(location.schema !== undefined && { schema: location.schema }),
      poolSize: 2,
      migrate,
      warn: (m) => process.stderr.write(`baton: ${m}\n`),
    });
    // The pool connects lazily: one read now, so that an unreachable server is reported as such.
    await store.migrationStatus().catch(async (error: unknown) => {
      await store.close().catch(() => {});
      throw error;
    });
    return store;
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof ValidationError) throw new UsageError(`${describeLocation(location)}: ${error.message}`, { cause: error });
    throw new CliError(`cannot open the store (${describeLocation(location)}): ${messageOf(error)}`, { cause: error });
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length) return messageOf(error.errors[0]);
  const message = error instanceof Error ? error.message : String(error);
  return message || (error as { code?: string })?.code || 'unknown error';
}
