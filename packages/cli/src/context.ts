import type { Command } from 'commander';
import type { Store } from '@baton/core';
import { CliError } from './errors.js';
import { Output } from './output.js';
import { describeLocation, openStore, parseLocation, type StoreLocation } from './store.js';

/** The options every command accepts (declared on the program). */
interface GlobalOptions {
  db?: string;
  schema?: string;
  debug?: boolean;
  color?: boolean;
}

/** What a command's action works with. */
export interface Cli {
  out: Output;
  location: StoreLocation;
  /** Sets the process's exit code (the action itself returns normally). */
  exit(code: number): void;
}

export interface RunState {
  exitCode: number;
}

/**
 * Opens the store named by the global options, runs `fn`, closes the store.
 * Only `migrate` may create a store or open one whose schema is behind: any
 * other command on a store with pending migrations stops and says so, rather
 * than change a production schema as a side effect of `baton runs`.
 */
export async function withStore(
  command: Command,
  state: RunState,
  fn: (store: Store, cli: Cli) => Promise<void>,
  { create = false }: { create?: boolean } = {},
): Promise<void> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const out = new Output(process.stdout, process.stderr, process.env, options.color === false);
  const location = parseLocation(
    options.db ?? (process.env.BATON_DB || undefined),
    options.schema ?? (process.env.BATON_SCHEMA || undefined),
  );
  const store = await openStore(location, { create, migrate: false });
  try {
    if (!create) {
      const pending = (await store.migrationStatus()).filter((m) => m.appliedAt === null);
      if (pending.length > 0) {
        throw new CliError(
          `${describeLocation(location)} has ${pending.length} pending migration${pending.length > 1 ? 's' : ''} (${pending.map((m) => m.name).join(', ')}): run baton migrate`,
        );
      }
    }
    await fn(store, { out, location, exit: (code) => void (state.exitCode = code) });
  } finally {
    await store.close().catch(() => {});
  }
}

/** Reads every page of a paged listing, up to `max` items. */
export async function collect<T>(
  page: (cursor: string | null, limit: number) => Promise<{ items: T[]; nextCursor: string | null }>,
  max = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const result: { items: T[]; nextCursor: string | null } = await page(cursor, Math.min(1000, max - items.length));
    items.push(...result.items);
    cursor = result.nextCursor;
  } while (cursor !== null && items.length < max);
  return items;
}
