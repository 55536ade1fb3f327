/**
 * The in-memory index of pending tasks in claim order: priority descending,
 * then `runAt`, then id. One sorted array per priority, so that a claim walks
 * the due prefix of each priority and stops at the first task not yet due,
 * instead of reading every task file.
 */
interface Entry {
  runAt: number;
  id: string;
}

const before = (a: Entry, b: Entry) => a.runAt < b.runAt || (a.runAt === b.runAt && a.id < b.id);

export class PendingQueue {
  readonly #byPriority = new Map<number, Entry[]>();
  /** Priorities present, highest first. */
  #priorities: number[] = [];

  add(id: string, priority: number, runAt: number): void {
    let list = this.#byPriority.get(priority);
    if (!list) {
      list = [];
      this.#byPriority.set(priority, list);
      this.#priorities = [...this.#byPriority.keys()].sort((a, b) => b - a);
    }
    const entry = { runAt, id };
    list.splice(lowerBound(list, entry), 0, entry);
  }

  remove(id: string, priority: number, runAt: number): void {
    const list = this.#byPriority.get(priority);
    if (!list) return;
    const at = lowerBound(list, { runAt, id });
    if (list[at]?.id !== id) return;
    list.splice(at, 1);
    if (list.length === 0) {
      this.#byPriority.delete(priority);
      this.#priorities = this.#priorities.filter((p) => p !== priority);
    }
  }

  /** Ids of tasks due at `now`, in claim order. */
  *due(now: number): Generator<string> {
    for (const priority of this.#priorities) {
      for (const entry of this.#byPriority.get(priority) ?? []) {
        if (entry.runAt > now) break;
        yield entry.id;
      }
    }
  }

  clear(): void {
    this.#byPriority.clear();
    this.#priorities = [];
  }
}

function lowerBound(list: Entry[], entry: Entry): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid]!, entry)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
