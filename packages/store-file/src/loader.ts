import { readdir, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { CorruptDataError } from '@baton/core';
import { decode, keyOf } from './codec.js';
import { eachLimited, readText } from './durable-io.js';
import { STAGING_SUFFIX } from './file-lock.js';
import { JOURNAL, KINDS, LOCK_DIR, LOGS, abs, isKind, isLeftoverTemp, recordPath, type Kind } from './layout.js';
import { readJournal, type Generation } from './journal.js';
import type { RecByKind } from './records.js';
import type { State } from './state.js';

/** Files read at once while loading. */
const READ_CONCURRENCY = 16;

/** Reads one record file into memory; a missing file removes the record. */
async function loadPath(dir: string, state: State, path: string): Promise<void> {
  const kind = path.slice(0, path.indexOf('/'));
  if (!isKind(kind)) return;
  const location = abs(dir, path);
  const text = await readText(location);
  if (text === null) {
    const key = keyForPath(state, kind, path);
    if (key !== undefined) state.set(kind, key, undefined);
    return;
  }
  const rec = decode(kind, text, location);
  const key = keyOf(kind, rec);
  // A copied or renamed file would otherwise shadow the real record silently.
  if (recordPath(kind, key) !== path)
    throw new CorruptDataError(location, `holds ${kind} "${key}", whose file is ${recordPath(kind, key)}`);
  state.set(kind, key, rec as RecByKind[typeof kind]);
}

function keyForPath(state: State, kind: Kind, path: string): string | undefined {
  const guess = basename(path, '.json');
  if (state.records[kind].has(guess) && recordPath(kind, guess) === path) return guess;
  for (const key of state.records[kind].keys()) if (recordPath(kind, key) === path) return key;
  return undefined;
}

/** Rebuilds memory from every record file. */
export async function loadAll(dir: string, state: State, at: Generation): Promise<void> {
  state.clear();
  for (const kind of KINDS) {
    const names = (await readdir(abs(dir, kind))).filter((n) => n.endsWith('.json'));
    await eachLimited(names, READ_CONCURRENCY, (name) => loadPath(dir, state, `${kind}/${name}`));
  }
  state.generation = at.generation;
  state.newestSeen = Math.max(state.newestSeen, at.generation);
  state.nextLogId = at.nextLogId;
  state.readySeq = at.readySeq;
}

/**
 * Brings memory from `state.generation` to `at` by re-reading only the files
 * the journals in between name. Returns false when one of them was pruned
 * (this handle fell too far behind): the caller reloads everything.
 */
export async function catchUp(dir: string, state: State, at: Generation): Promise<boolean> {
  if (state.generation < 0 || state.generation > at.generation) return false;
  const paths = new Set<string>();
  for (let g = state.generation + 1; g <= at.generation; g++) {
    const record = await readJournal(dir, g);
    if (!record) return false;
    for (const path of [...record.writes, ...record.deletes]) if (!path.startsWith(`${LOGS}/`)) paths.add(path);
  }
  for (const path of paths) await loadPath(dir, state, path);
  state.generation = at.generation;
  state.newestSeen = Math.max(state.newestSeen, at.generation);
  state.nextLogId = at.nextLogId;
  state.readySeq = at.readySeq;
  return true;
}

/**
 * Deletes what processes killed mid-write left behind: staged files no journal
 * names and write-file-atomic's temporary files. Call with the lock held and
 * after recovery, when no write of anyone is under way.
 */
export async function sweepLeftovers(dir: string): Promise<number> {
  const folders = ['.', JOURNAL, ...KINDS];
  for (const run of await readdir(abs(dir, LOGS))) folders.push(`${LOGS}/${run}`);
  let removed = 0;
  for (const folder of folders) {
    let names: string[];
    try {
      names = await readdir(abs(dir, folder));
    } catch {
      continue;
    }
    for (const name of names.filter(isLeftoverTemp)) {
      await rm(abs(dir, `${folder}/${name}`), { force: true });
      removed++;
    }
    if (folder === '.') removed += await sweepLockDebris(dir, names);
  }
  return removed;
}

/**
 * Lock folders a killed process was building or taking over. A live process
 * is only inside one for microseconds, and it does not hold the lock while
 * doing so, so only old ones are removed.
 */
async function sweepLockDebris(dir: string, names: string[]): Promise<number> {
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(`${LOCK_DIR}.`) || !(name.endsWith(STAGING_SUFFIX) || name.includes('.dead-') || name.includes('.released-')))
      continue;
    const info = await stat(abs(dir, name)).catch(() => null);
    if (!info || Date.now() - info.mtimeMs < LOCK_DEBRIS_AGE_MS) continue;
    await rm(abs(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

const LOCK_DEBRIS_AGE_MS = 60_000;
