import { watch, type FSWatcher } from 'node:fs';
import { readGeneration } from './journal.js';
import { GENERATION_FILE } from './layout.js';

/**
 * `onTasksReady` for a folder: commits that make tasks claimable bump
 * `readySeq` in `generation.json`; a watch on the folder (inotify and the
 * like, no polling) sees the file replaced, reads it, and calls the listeners
 * when the counter moved, whichever process committed.
 */
export class ReadyWatch {
  readonly #dir: string;
  readonly #listeners = new Set<() => void>();
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastSeq: number;

  constructor(dir: string, currentSeq: number) {
    this.#dir = dir;
    this.#lastSeq = currentSeq;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (!this.#watcher) {
      try {
        this.#watcher = watch(this.#dir, { persistent: false }, (_event, name) => {
          if (name === GENERATION_FILE) this.#changed();
        });
        // Without a watch the scheduler still finds work by polling.
        this.#watcher.on('error', () => this.#stopWatching());
      } catch {
        this.#watcher = null;
      }
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stopWatching();
    };
  }

  close(): void {
    this.#listeners.clear();
    this.#stopWatching();
  }

  /** Several events arrive per replacement: read once they settle. */
  #changed(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      readGeneration(this.#dir).then(
        (g) => {
          if (!g || g.readySeq === this.#lastSeq) return;
          this.#lastSeq = g.readySeq;
          for (const listener of [...this.#listeners]) {
            try {
              listener();
            } catch {
              // A listener's failure is its own; the others still get woken.
            }
          }
        },
        () => {},
      );
    }, 2);
    this.#timer.unref();
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
