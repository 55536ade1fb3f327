import type { Page } from '@baton/core';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor } from '@baton/core/store-kit';

const DEFAULT_PAGE = DEFAULT_PAGE_SIZE;
export { decodeCursor };

/**
 * Takes up to `limit` items from `source` (already in order, already past the
 * cursor) and builds the page; the cursor is the last item's sort key.
 */
export function takePage<R, T>(
  source: Iterable<R>,
  limit: number | undefined,
  map: (rec: R) => T,
  key: (rec: R) => (string | number)[],
): Page<T> {
  const max = limit ?? DEFAULT_PAGE;
  const kept: R[] = [];
  let more = false;
  for (const rec of source) {
    if (kept.length === max) {
      more = true;
      break;
    }
    kept.push(rec);
  }
  return { items: kept.map(map), nextCursor: more ? encodeCursor(key(kept[kept.length - 1]!)) : null };
}

/** Filters lazily, so that a page stops reading once it is full. */
export function* where<T>(items: Iterable<T>, keep: (item: T) => boolean): Generator<T> {
  for (const item of items) if (keep(item)) yield item;
}

/** `updatedAt` for a change: now, or one past the stored value, so it always moves forward. */
export const bumped = (previous: number, now: number): number => (previous >= now ? previous + 1 : now);

/** A copy of a JSON value as a JSON round trip would give it (undefined members dropped). */
export const cloneJson = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));
