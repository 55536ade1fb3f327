import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF protection for actions, double-submit style: the browser holds a random
 * token in an HttpOnly, SameSite=Strict cookie; the page learns the same token
 * from `api/session` (a same-origin read: another site can neither read that
 * answer nor send a custom header without a CORS preflight, which is refused),
 * and every POST must carry it in `x-baton-csrf`. An `Origin` header, when sent,
 * must name this host.
 */
export const CSRF_COOKIE = 'baton_csrf';
export const CSRF_HEADER = 'x-baton-csrf';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function cookieToken(request: Request): string | null {
  const cookie = request.headers.get('cookie') ?? '';
  for (const part of cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === CSRF_COOKIE) return rest.join('=') || null;
  }
  return null;
}

export function tokenCookie(token: string, path: string): string {
  return `${CSRF_COOKIE}=${token}; Path=${path}; HttpOnly; SameSite=Strict`;
}

/** Why a POST is refused, or null when its token and origin check out. */
export function csrfProblem(request: Request): string | null {
  const cookie = cookieToken(request);
  const header = request.headers.get(CSRF_HEADER);
  if (!cookie || !header) return 'missing CSRF token: reload the page';
  const a = Buffer.from(cookie);
  const b = Buffer.from(header);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'CSRF token mismatch: reload the page';
  const origin = request.headers.get('origin');
  if (origin && origin !== 'null') {
    const host = request.headers.get('host');
    if (!host || new URL(origin).host !== host) return `cross-origin request from ${origin} refused`;
  } else if (origin === 'null') return 'opaque origin refused';
  return null;
}
