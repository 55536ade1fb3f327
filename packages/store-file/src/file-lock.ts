import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TimeoutError } from '@baton/core';
import lockfile from 'proper-lockfile';

/**
 * The store folder's lock: an in-process queue (handles on one folder in one
 * process wait in line) in front of proper-lockfile's cross-process lock, a
 * folder created with mkdir (atomic, also on network file systems) whose
 * mtime the holder keeps fresh; a holder that stops refreshing for `staleMs`
 * is presumed dead and its lock is taken over.
 *
 * Waiting `staleMs` after every crash is slow for development, so the lock
 * folder holds `owner.json` (pid, host, pid namespace) from the moment it
 * exists: a waiter on the same host that finds the owner process gone takes
 * the lock at once. Taking a lock over is a rename of the lock folder to a unique name
 * followed by a check that the renamed folder is the dead owner's, so two
 * waiters cannot both break it.
 */

/** The lock could not be taken within the timeout: another process holds it and keeps it fresh. */
export class LockTimeoutError extends TimeoutError {
  constructor(
    readonly lockPath: string,
    timeoutMs: number,
  ) {
    super(timeoutMs);
    this.message = `could not take the store lock ${lockPath} within ${timeoutMs} ms: another handle or process holds it`;
  }
}

export interface LockSettings {
  staleMs: number;
  timeoutMs: number;
}

interface Owner {
  pid: number;
  host: string;
  pidNamespace: string | null;
  token: string;
}

/**
 * The fs proper-lockfile works through. Its lock is a folder made with mkdir;
 * ours is made with owner.json already inside (staged, then renamed into
 * place, atomic like mkdir), so that no lock is ever seen without its owner,
 * even when its maker is killed the moment after. Removing it (release, stale
 * take-over, exit) must then be recursive.
 */
const lockFs = {
  ...fs,
  mkdir: (path: string, callback: (error: NodeJS.ErrnoException | null) => void) => {
    makeOwnedDir(path).then(() => callback(null), callback);
  },
  rmdir: (path: string, callback: (error: NodeJS.ErrnoException | null) => void) => {
    removeOwnedDir(path).then(() => callback(null), callback);
  },
  rmdirSync: (path: string) => fs.rmSync(path, { recursive: true }),
};

/**
 * Renamed away first (atomic), then deleted: a process killed while deleting
 * leaves debris under another name, never a lock without its owner.
 */
async function removeOwnedDir(path: string): Promise<void> {
  const gone = `${path}.released-${randomUUID()}`;
  await rename(path, gone);
  await rm(gone, { recursive: true, force: true });
}

async function makeOwnedDir(path: string): Promise<void> {
  const owner: Owner = { pid: process.pid, host: hostname(), pidNamespace: PID_NAMESPACE, token: randomUUID() };
  const staging = `${path}.${owner.token}${STAGING_SUFFIX}`;
  await mkdir(staging);
  try {
    // Even a lock nobody will ever hold keeps only whole JSON files.
    await writeFile(join(staging, 'owner.tmp'), JSON.stringify(owner));
    await rename(join(staging, 'owner.tmp'), join(staging, 'owner.json'));
    await rename(staging, path);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    // The lock exists: report it the way mkdir would, which is what proper-lockfile expects.
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') throw Object.assign(new Error(`${path} exists`), { code: 'EEXIST' });
    throw error;
  }
}

/** Lock folders a killed process was still building; swept on open once old. */
export const STAGING_SUFFIX = '.staging';

const PID_NAMESPACE = (() => {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
})();

/** One queue per folder per process, shared by every handle on it. */
const queues = new Map<string, Queue>();

export class DirLock {
  readonly #dir: string;
  readonly #lockPath: string;
  readonly #settings: LockSettings;
  readonly #queue: Queue;
  #compromised: Error | null = null;

  constructor(dir: string, lockDirName: string, settings: LockSettings) {
    this.#dir = dir;
    this.#lockPath = join(dir, lockDirName);
    this.#settings = settings;
    let queue = queues.get(dir);
    if (!queue) queues.set(dir, (queue = new Queue()));
    this.#queue = queue;
  }

  /** Runs `fn` holding the lock. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#settings.timeoutMs;
    const leave = await this.#queue.enter(this.#settings.timeoutMs, () => new LockTimeoutError(this.#lockPath, this.#settings.timeoutMs));
    try {
      const release = await this.#acquire(deadline);
      try {
        return await fn();
      } finally {
        await release().catch(() => {
          // Already released because it was compromised; `assertHeld` reported it to the writer.
        });
      }
    } finally {
      leave();
    }
  }

  /** Throws when the lock was lost while held (the process stalled past `staleMs` and another took it). */
  assertHeld(): void {
    if (this.#compromised) throw new Error(`the store lock ${this.#lockPath} was lost while held: ${this.#compromised.message}`);
  }

  async #acquire(deadline: number): Promise<() => Promise<void>> {
    let delay = 1;
    for (;;) {
      try {
        this.#compromised = null;
        const release = await lockfile.lock(this.#dir, {
          lockfilePath: this.#lockPath,
          realpath: false,
          stale: this.#settings.staleMs,
          retries: 0,
          fs: lockFs,
          onCompromised: (error) => {
            this.#compromised = error;
          },
        });
        return release;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      }
      if (await this.#takeOverFromDeadOwner()) continue;
      if (Date.now() >= deadline) throw new LockTimeoutError(this.#lockPath, this.#settings.timeoutMs);
      await sleep(delay + Math.random() * delay);
      // Short polls: a busy process re-takes the lock right after releasing it, so a slow poller would starve.
      delay = Math.min(delay * 2, 8);
    }
  }

  /** Removes the lock when its owner is a process of this host that no longer runs. True when it was removed. */
  async #takeOverFromDeadOwner(): Promise<boolean> {
    const owner = await readOwner(this.#lockPath);
    if (!owner || !ownerIsGone(owner)) return false;
    const moved = `${this.#lockPath}.dead-${randomUUID()}`;
    try {
      await rename(this.#lockPath, moved);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw error;
    }
    if ((await readOwner(moved))?.token !== owner.token) {
      // Another waiter broke the dead lock first and a live process took a new one: give it back.
      await rename(moved, this.#lockPath).catch(() => {});
      return false;
    }
    await rm(moved, { recursive: true, force: true });
    return true;
  }
}

async function readOwner(lockPath: string): Promise<Owner | null> {
  try {
    const owner = JSON.parse(await readFile(join(lockPath, 'owner.json'), 'utf8')) as Owner;
    return Number.isSafeInteger(owner.pid) && owner.pid > 0 && typeof owner.token === 'string' ? owner : null;
  } catch {
    // Missing (the owner is between mkdir and writing it) or torn: not enough to judge, wait for staleness.
    return null;
  }
}

function ownerIsGone(owner: Owner): boolean {
  if (owner.host !== hostname() || owner.pidNamespace !== PID_NAMESPACE) return false;
  // Nobody in this process holds the lock while we wait for it (the queue), so our own pid is a previous life's.
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  return isZombie(owner.pid);
}

/** A killed process its parent has not reaped yet still answers kill(pid, 0). */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A FIFO mutex whose waiters give up after a timeout. */
class Queue {
  #busy = false;
  readonly #waiting: (() => void)[] = [];

  enter(timeoutMs: number, onTimeout: () => Error): Promise<() => void> {
    const leave = () => {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy = false;
    };
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve(leave);
    }
    return new Promise((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve(leave);
      };
      const timer = setTimeout(() => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(onTimeout());
      }, timeoutMs);
      this.#waiting.push(waiter);
    });
  }
}
