import { mkdir, readdir, realpath } from 'node:fs/promises';
import { CorruptDataError, ValidationError, type FieldIssue, type Store } from '@baton/core';
import { guardStore } from '@baton/core/store-kit';
import { parseJson } from './codec.js';
import { readText, replaceAtomically } from './durable-io.js';
import { DirLock } from './file-lock.js';
import { FileStore, Serial } from './file-store.js';
import { readGeneration, recover, writeGeneration } from './journal.js';
import { FOLDERS, FORMAT, FORMAT_VERSION, GENERATION_FILE, JOURNAL, LOCK_DIR, MARKER_FILE, abs } from './layout.js';
import { loadAll, sweepLeftovers } from './loader.js';
import { ReadyWatch } from './ready-watch.js';
import { State } from './state.js';

export interface FileStoreOptions {
  /** The store folder. Created when missing; an existing folder must be empty or a Baton file store. */
  directory: string;
  /**
   * A lock its holder has not refreshed for this long is taken over: its
   * holder is presumed dead (on another host, or stalled). A holder on this
   * host that has exited is detected at once. @defaultValue 10000 (at least 2000)
   */
  lockStaleMs?: number;
  /** How long an operation waits for the folder lock before failing with LockTimeoutError. @defaultValue 30000 */
  lockTimeoutMs?: number;
}

export const DEFAULT_LOCK_STALE_MS = 10_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * Opens (creating if needed) a Store kept as JSON files in one folder. Every
 * write is atomic and durable, every multi-file change (a run and its tasks,
 * a batch of finished tasks, a transaction) commits as a whole through a
 * journal, and several processes may share the folder: writes take a
 * cross-process lock and first catch up with the others' commits.
 *
 * @example
 * ```ts
 * const store = await openFileStore({ directory: '.baton/store' });
 * const workflow = await store.createWorkflow({ name: 'hello', executor: 'function', steps: [{ name: 'greet' }] });
 * const { run } = await store.createRun({ workflowId: workflow.id });
 * ```
 */
export async function openFileStore(options: FileStoreOptions): Promise<Store> {
  const settings = checkOptions(options);
  await mkdir(options.directory, { recursive: true });
  // One lock queue per real folder, however the host spells its path.
  const dir = await realpath(options.directory);
  const lock = new DirLock(dir, LOCK_DIR, settings);
  const state = new State();
  const migrate = () => prepareFolder(dir);
  await lock.run(async () => {
    await migrate();
    // Replay first: a journaled commit's staged files look like leftovers until it is applied.
    const at = await recover(dir);
    await sweepLeftovers(dir);
    await loadAll(dir, state, at);
  });
  return guardStore(
    new FileStore({ dir, lock, state, serial: new Serial(), closed: false, migrate, ready: new ReadyWatch(dir, state.readySeq) }),
  );
}

function checkOptions(options: FileStoreOptions): { staleMs: number; timeoutMs: number } {
  const issues: FieldIssue[] = [];
  if (typeof options?.directory !== 'string' || options.directory.length === 0)
    issues.push({ path: 'directory', message: 'must be a non-empty path' });
  const ms = (name: 'lockStaleMs' | 'lockTimeoutMs', min: number) => {
    const value = options?.[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min))
      issues.push({ path: name, message: `must be an integer of at least ${min}` });
  };
  ms('lockStaleMs', 2000);
  ms('lockTimeoutMs', 1);
  if (issues.length) throw new ValidationError('file store options', issues);
  return { staleMs: options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS, timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS };
}

/** Names a folder may hold before it becomes a store (our own leftovers of an interrupted first open). */
const OWN_NAMES = new Set<string>([...FOLDERS, LOCK_DIR, GENERATION_FILE]);

/**
 * Writes the format marker, the folders and `generation.json` when missing,
 * and refuses a folder that holds something else, or a newer format.
 * Idempotent; run with the lock held.
 */
async function prepareFolder(dir: string): Promise<void> {
  const markerPath = abs(dir, MARKER_FILE);
  const text = await readText(markerPath);
  if (text === null) {
    const foreign = (await readdir(dir)).filter(
      (n) => !OWN_NAMES.has(n) && !n.startsWith(`${LOCK_DIR}.`) && !n.startsWith(`${GENERATION_FILE}.`) && !n.startsWith(`${MARKER_FILE}.`),
    );
    if (foreign.length > 0) {
      throw new ValidationError('file store options', [
        {
          path: 'directory',
          message: `${dir} is not empty (${foreign.slice(0, 3).join(', ')}) and is not a Baton file store (no ${MARKER_FILE})`,
        },
      ]);
    }
  } else {
    const marker = parseJson(text, markerPath) as { format?: unknown; version?: unknown } | null;
    if (marker?.format !== FORMAT || !Number.isSafeInteger(marker.version)) {
      throw new CorruptDataError(markerPath, `expected { "format": "${FORMAT}", "version": integer }`);
    }
    if ((marker.version as number) > FORMAT_VERSION) {
      throw new CorruptDataError(
        markerPath,
        `format version ${marker.version} is newer than this @baton/store-file reads (${FORMAT_VERSION})`,
      );
    }
  }
  for (const folder of FOLDERS) await mkdir(abs(dir, folder), { recursive: true });
  if (!(await readGeneration(dir))) {
    // Without it, kept journals would be replayed from the start and undo later commits.
    if ((await readdir(abs(dir, JOURNAL))).some((n) => n.endsWith('.json'))) {
      throw new CorruptDataError(abs(dir, GENERATION_FILE), 'missing while journals exist: restore it rather than start over');
    }
    await writeGeneration(dir, { generation: 0, nextLogId: 1, readySeq: 0 });
  }
  if (text === null) await replaceAtomically(markerPath, `${JSON.stringify({ format: FORMAT, version: FORMAT_VERSION }, null, 2)}\n`);
}
