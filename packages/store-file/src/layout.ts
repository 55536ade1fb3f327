import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * Where everything lives inside the store folder. One JSON file per record so
 * that a person can read, grep and diff the store:
 *
 * ```
 * {dir}/baton-store.json            format marker (version)
 * {dir}/generation.json             last applied commit number, next log id
 * {dir}/journal/{generation}.json   commit records (the redo log; recent ones kept)
 * {dir}/store.lock/                 the cross-process lock (proper-lockfile), present while held
 * {dir}/workflows/{id}.json
 * {dir}/runs/{id}.json
 * {dir}/run-steps/{runId}.json      per-run step counters (succeeded, dependencies remaining)
 * {dir}/tasks/{id}.json
 * {dir}/logs/{runId}/{firstLogId}.json   one file per appended batch, in log order
 * {dir}/blocks/{id}.json  payloads/{id}.json  config/{key}.json
 * {dir}/sessions/{id}.json  tool-executions/{id}.json
 * {dir}/rate-windows/{key}.json      a rate-limit key's claims in its current sliding window
 * ```
 */

/** The record kinds held in memory, each in its own folder. Logs stay on disk only. */
export const KINDS = [
  'workflows',
  'runs',
  'run-steps',
  'tasks',
  'blocks',
  'payloads',
  'config',
  'sessions',
  'tool-executions',
  'rate-windows',
] as const;
export type Kind = (typeof KINDS)[number];
export const isKind = (value: string): value is Kind => (KINDS as readonly string[]).includes(value);

export const LOGS = 'logs';
export const JOURNAL = 'journal';
export const MARKER_FILE = 'baton-store.json';
export const GENERATION_FILE = 'generation.json';
export const LOCK_DIR = 'store.lock';
export const FORMAT = 'baton-store-file';
export const FORMAT_VERSION = 1;

/** Every folder the store creates. */
export const FOLDERS = [...KINDS, LOGS, JOURNAL] as const;

const SAFE_NAME = /^[a-z0-9_-][a-z0-9_.-]{0,149}$/;

/**
 * A file name for a key. Store-made ids (UUIDs) are used as they are. Keys a
 * host chooses (config keys, session ids) may hold `/`, `:` or capitals, which
 * are unsafe or collide on case-insensitive file systems: those get a readable
 * lower-case stem plus a hash of the exact key. The key itself is always
 * inside the file, so the name never has to be decoded.
 */
function fileName(key: string): string {
  if (SAFE_NAME.test(key)) return `${key}.json`;
  const stem = key
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 80);
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `${stem}~${hash}.json`;
}

/** Path of a record, relative to the store folder (journals list relative paths). */
export const recordPath = (kind: Kind, key: string): string => `${kind}/${fileName(key)}`;

/** Log ids are zero-padded in file names so that name order is log order. */
export const logFilePath = (runId: string, firstId: number): string => `${LOGS}/${runId}/${String(firstId).padStart(12, '0')}.json`;

export const journalPath = (generation: number): string => `${JOURNAL}/${String(generation).padStart(12, '0')}.json`;

/** A staged file, renamed over `path` when its commit applies. */
export const tempPath = (path: string, generation: number): string => `${path}.${generation}.tmp`;

/**
 * Names left behind by a process killed mid-write: our staged `*.tmp` files
 * and write-file-atomic's `name.json.<number>`. Anything else is never deleted.
 */
export const isLeftoverTemp = (name: string): boolean => /\.\d+\.tmp$/.test(name) || /\.json\.\d+$/.test(name);

export const abs = (dir: string, relative: string): string => join(dir, relative);
