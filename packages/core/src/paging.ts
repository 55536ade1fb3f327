import { ValidationError } from './errors.js';

/** Page size when a listing gives no `limit`. */
export const DEFAULT_PAGE_SIZE = 50;

/**
 * Cursors are opaque to callers: the sort key of a page's last item, JSON in
 * base64url. Every store uses these two, so a cursor means the same everywhere.
 */
export function encodeCursor(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key a cursor carries; a cursor that is not one of ours is a ValidationError naming `cursor`. */
export function decodeCursor(cursor: string | null | undefined, arity: number): (string | number)[] | null {
  if (cursor === null || cursor === undefined) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' || typeof k === 'number')) return key;
  } catch {
    // fall through to the typed error
  }
  throw new ValidationError('page options', [{ path: 'cursor', message: 'is not a cursor this listing returned' }]);
}
