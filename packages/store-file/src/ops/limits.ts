import type { LimitState } from '@baton/core';
import type { RateWindowRec, TaskRec } from '../records.js';
import type { State } from '../state.js';
import type { Unit } from '../unit.js';

/**
 * Cluster-wide limits in the file store. The claim runs under the folder
 * lock, after memory caught up with every other process's commits, so counts
 * read from memory are exact for every process on the folder.
 *
 * Slots held are derived from the leased tasks (an unexpired lease under the
 * key): a task that ends, is released or recovered, or whose lease expired,
 * stops counting with no bookkeeping elsewhere. Rate windows are stored, one
 * file per key under `rate-windows/`: the claim times younger than the key's
 * period (a sliding window log), so at most `limit` claims fall in any window
 * of `periodMs`, across restarts.
 */
export class Limits {
  readonly #now: number;
  readonly #state: State;
  readonly #held = new Map<string, number>();
  readonly #windows = new Map<string, { periodMs: number; claims: number[]; changed: boolean }>();

  constructor(state: State, now: number) {
    this.#state = state;
    this.#now = now;
    for (const id of state.leased) {
      const task = state.get('tasks', id)!;
      if (task.concurrencyLimit && task.leaseExpiresAt !== null && task.leaseExpiresAt >= now) {
        this.#held.set(task.concurrencyLimit.key, (this.#held.get(task.concurrencyLimit.key) ?? 0) + 1);
      }
    }
  }

  /** Counts the task against its keys when both have room; false (nothing counted) otherwise. */
  take(task: TaskRec): boolean {
    const c = task.concurrencyLimit;
    if (c && (this.#held.get(c.key) ?? 0) >= c.limit) return false;
    const r = task.rateLimit;
    if (r) {
      const window = this.#window(r.key, r.periodMs);
      const since = this.#now - r.periodMs;
      if (window.claims.filter((at) => at > since).length >= r.limit) return false;
      window.claims.push(this.#now);
      window.changed = true;
    }
    if (c) this.#held.set(c.key, (this.#held.get(c.key) ?? 0) + 1);
    return true;
  }

  /** Writes the windows the claim moved, pruned to their period, in the claim's commit. */
  record(u: Unit): void {
    for (const [key, window] of this.#windows) {
      if (!window.changed) continue;
      const since = this.#now - window.periodMs;
      u.put('rate-windows', { key, claims: window.claims.filter((at) => at > since) });
    }
  }

  #window(key: string, periodMs: number) {
    let window = this.#windows.get(key);
    if (!window) {
      const rec: RateWindowRec | undefined = this.#state.get('rate-windows', key);
      window = { periodMs, claims: [...(rec?.claims ?? [])], changed: false };
      this.#windows.set(key, window);
    }
    return window;
  }
}

/** Why tasks wait: each key with tasks pending or leased (see `Store.listLimits`). */
export function listLimits(state: State): LimitState[] {
  const now = Date.now();
  const out = new Map<string, LimitState>();
  const entry = (kind: LimitState['kind'], key: string, limit: number, periodMs: number | null) => {
    const id = `${kind}\n${key}`;
    let e = out.get(id);
    if (!e) out.set(id, (e = { kind, key, limit, periodMs, used: 0, waiting: 0 }));
    e.limit = Math.max(e.limit, limit);
    if (periodMs !== null) e.periodMs = Math.max(e.periodMs ?? 0, periodMs);
    return e;
  };
  const visit = (task: TaskRec, pending: boolean) => {
    const due = pending && task.runAt <= now;
    const live = !pending && task.leaseExpiresAt !== null && task.leaseExpiresAt >= now;
    if (task.concurrencyLimit) {
      const e = entry('concurrency', task.concurrencyLimit.key, task.concurrencyLimit.limit, null);
      if (due) e.waiting++;
      if (live) e.used++;
    }
    if (task.rateLimit) {
      const e = entry('rate', task.rateLimit.key, task.rateLimit.limit, task.rateLimit.periodMs);
      if (due) e.waiting++;
    }
  };
  for (const id of state.pending.due(Number.MAX_SAFE_INTEGER)) visit(state.get('tasks', id)!, true);
  for (const id of state.leased) visit(state.get('tasks', id)!, false);
  for (const e of out.values()) {
    if (e.kind !== 'rate') continue;
    const since = now - e.periodMs!;
    e.used = (state.get('rate-windows', e.key)?.claims ?? []).filter((at) => at > since).length;
  }
  return [...out.values()].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
