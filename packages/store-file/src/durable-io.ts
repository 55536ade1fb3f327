import { open, readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';

/**
 * The few file operations the store is built on. Durability on Linux needs the
 * file's data flushed (fsync) before it is renamed into place, and the folder
 * flushed after, so that the new name survives a power cut as well as a crash.
 */

/** A file's text, or null when it does not exist. */
export async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Writes and fsyncs a staged file that a commit will rename into place. */
export async function writeDurable(path: string, content: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces a single file atomically: write-file-atomic writes a temporary
 * file, fsyncs it and renames it over the target, so a reader or a crash sees
 * the old file or the new one, never a torn one.
 */
export async function replaceAtomically(path: string, content: string): Promise<void> {
  await writeFileAtomic(path, content, { fsync: true });
}

/** Flushes a folder's entries (new names, removed names). A no-op where folders cannot be opened (Windows). */
export async function fsyncDir(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Runs `fn` over `items` with at most `limit` at a time (fsyncs overlap, the
 * thread pool stays usable). On a failure it stops starting new items, waits
 * for those under way, then throws the first error.
 */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
