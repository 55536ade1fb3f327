import type { RunStatus, TaskStatus } from './models.js';

/** The status a run ends with when a task of it ends in `status` (not success): shared by every store's roll-up. */
export function runStatusAfterFailure(status: TaskStatus): RunStatus {
  return status === 'timeout' ? 'timeout' : status === 'cancelled' ? 'cancelled' : 'failed';
}

/** Groups items by key, keeping first-seen order. */
export function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
