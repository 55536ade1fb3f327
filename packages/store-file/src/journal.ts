import { mkdir, rename, unlink } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { CorruptDataError } from '@baton/core';
import { decode, parseJson } from './codec.js';
import { eachLimited, fsyncDir, readText, replaceAtomically, writeDurable } from './durable-io.js';
import { GENERATION_FILE, JOURNAL, LOGS, abs, isKind, journalPath, tempPath } from './layout.js';

/**
 * Commits that span many files, atomically, with a redo journal:
 *
 * 1. stage: every new file is written beside its target as `{path}.{gen}.tmp`
 *    and fsynced;
 * 2. journal: `journal/{gen}.json` lists the staged writes and the deletes and
 *    is written atomically. This is the commit point: from here on the commit
 *    happens, even if this process dies;
 * 3. apply: each staged file is renamed over its target, deletes are done, the
 *    folders are fsynced;
 * 4. `generation.json` moves to `gen`.
 *
 * Whoever takes the lock next replays a journal newer than `generation.json`
 * (renames whose staged file is still there, deletes again): every step is
 * idempotent. A crash before the journal leaves only staged files, which no
 * journal names and which are swept on open: the commit did not happen.
 *
 * Recent journals are kept (`KEEP`) so that another process can catch up by
 * re-reading just the files they name instead of every file.
 */

const KEEP_JOURNALS = 200;
/** Staged writes in flight at once. */
const WRITE_CONCURRENCY = 8;

export interface Change {
  /** Relative to the store folder. */
  path: string;
  /** New content, or null to delete the file. */
  content: string | null;
}

export interface Generation {
  generation: number;
  nextLogId: number;
  /** Counts commits that made tasks claimable; watchers of `generation.json` wake schedulers when it moves. */
  readySeq: number;
}

export interface JournalRecord extends Generation {
  writes: string[];
  deletes: string[];
}

/** Raised after the commit point: the commit is durable and will be completed by the next lock holder. */
export class ApplyError extends Error {}

export async function commit(dir: string, next: Generation, changes: Change[], assertHeld: () => void): Promise<void> {
  const gen = next.generation;
  const writes = changes.filter((c): c is Change & { content: string } => c.content !== null);
  const record: JournalRecord = {
    ...next,
    writes: writes.map((w) => w.path),
    deletes: changes.filter((c) => c.content === null).map((c) => c.path),
  };
  const createdDirs = new Set<string>();
  await verifyTargets(dir, writes);
  try {
    for (const folder of new Set(writes.filter((w) => w.path.startsWith(`${LOGS}/`)).map((w) => dirname(w.path)))) {
      if (await mkdir(abs(dir, folder), { recursive: true })) createdDirs.add(folder);
    }
    await eachLimited(writes, WRITE_CONCURRENCY, (w) => writeDurable(abs(dir, tempPath(w.path, gen)), w.content));
    // A new log folder's own name must be durable before a journal points into it.
    for (const folder of createdDirs) await fsyncDir(abs(dir, dirname(folder)));
    assertHeld();
    await replaceAtomically(abs(dir, journalPath(gen)), `${JSON.stringify(record, null, 1)}\n`);
    await fsyncDir(abs(dir, JOURNAL));
  } catch (error) {
    await Promise.all(writes.map((w) => unlink(abs(dir, tempPath(w.path, gen))).catch(() => {})));
    throw error;
  }
  try {
    await apply(dir, record);
  } catch (error) {
    throw new ApplyError(
      `commit ${gen} is journaled but could not be applied (it will be on the next access): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Before overwriting record files, reads each one that exists and checks it is
 * still a valid record: a file corrupted or hand-broken since this handle
 * loaded it fails the commit with CorruptDataError naming it, and is left for
 * a person to look at rather than silently replaced from memory. Costs one
 * read per overwritten file (3 for a task's end), next to the commit's fsyncs.
 */
async function verifyTargets(dir: string, writes: Change[]): Promise<void> {
  await eachLimited(writes, WRITE_CONCURRENCY, async (w) => {
    const kind = w.path.slice(0, w.path.indexOf('/'));
    if (!isKind(kind)) return;
    const location = abs(dir, w.path);
    const text = await readText(location);
    if (text !== null) decode(kind, text, location);
  });
}

/** Applies a journaled commit; safe to repeat. */
async function apply(dir: string, record: JournalRecord): Promise<void> {
  const gen = record.generation;
  const readySeq = record.readySeq ?? (await readGeneration(dir))?.readySeq ?? 0;
  const touched = new Set<string>();
  await eachLimited(record.writes, WRITE_CONCURRENCY, async (path) => {
    touched.add(dirname(path));
    try {
      await rename(abs(dir, tempPath(path, gen)), abs(dir, path));
    } catch (error) {
      // Already renamed by the run that crashed, or by an earlier replay.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  });
  for (const path of record.deletes) {
    touched.add(dirname(path));
    await unlink(abs(dir, path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  for (const folder of touched) await fsyncDir(abs(dir, folder));
  await writeGeneration(dir, { ...record, readySeq });
  if (gen > KEEP_JOURNALS) await unlink(abs(dir, journalPath(gen - KEEP_JOURNALS))).catch(() => {});
}

export async function writeGeneration(dir: string, g: Generation): Promise<void> {
  await replaceAtomically(
    abs(dir, GENERATION_FILE),
    `${JSON.stringify({ generation: g.generation, nextLogId: g.nextLogId, readySeq: g.readySeq })}\n`,
  );
}

/** The applied generation as `generation.json` says; null when the file does not exist (a new store). */
export async function readGeneration(dir: string): Promise<Generation | null> {
  const location = abs(dir, GENERATION_FILE);
  const text = await readText(location);
  if (text === null) return null;
  const raw = parseJson(text, location) as Partial<Generation> | null;
  if (!raw || !Number.isSafeInteger(raw.generation) || !Number.isSafeInteger(raw.nextLogId)) {
    throw new CorruptDataError(location, 'expected { "generation": integer, "nextLogId": integer }');
  }
  return { generation: raw.generation!, nextLogId: raw.nextLogId!, readySeq: Number.isSafeInteger(raw.readySeq) ? raw.readySeq! : 0 };
}

/** A journal record, or null when it was pruned (or never written). */
export async function readJournal(dir: string, generation: number): Promise<JournalRecord | null> {
  const location = abs(dir, journalPath(generation));
  const text = await readText(location);
  if (text === null) return null;
  const raw = parseJson(text, location) as Partial<JournalRecord> | null;
  // Paths stay inside the store folder, even in a hand-edited journal.
  const paths = (v: unknown) =>
    Array.isArray(v) && v.every((p) => typeof p === 'string' && p.length > 0 && !isAbsolute(p) && !p.split(/[\\/]/).includes('..'));
  if (!raw || raw.generation !== generation || !Number.isSafeInteger(raw.nextLogId) || !paths(raw.writes) || !paths(raw.deletes)) {
    throw new CorruptDataError(location, `expected the journal of commit ${generation}`);
  }
  return raw as JournalRecord;
}

/**
 * Completes a commit a crashed process journaled but did not apply. Call with
 * the lock held. Returns the generation now applied.
 */
export async function recover(dir: string): Promise<Generation> {
  let current = await readGeneration(dir);
  // Opening writes it before anything else; gone later means the folder was tampered with.
  // Starting over at 0 would overwrite journals and log files that exist: refuse.
  if (!current)
    throw new CorruptDataError(abs(dir, GENERATION_FILE), 'missing: restore it (or the whole store folder) rather than start over');
  for (;;) {
    const pending = await readJournal(dir, current.generation + 1);
    if (!pending) return current;
    await apply(dir, pending);
    current = { generation: pending.generation, nextLogId: pending.nextLogId, readySeq: pending.readySeq ?? current.readySeq };
  }
}
