import { ExecutorError } from '@baton/core';
import { isOk, parseJson, sendRequest } from '../shared/http-request.js';
import type { TokenProvider } from './cloud-run-client.js';

export interface MetadataTokenOptions {
  /** @defaultValue 'http://metadata.google.internal' (or `GCE_METADATA_HOST`) */
  baseUrl?: string;
  /** Refresh this long before the token expires. @defaultValue 60000 */
  refreshMarginMs?: number;
}

/**
 * The default token provider: the service account's token from the Google
 * metadata server, as seen from Cloud Run, GKE and Compute Engine, cached
 * until shortly before it expires. Elsewhere, pass your own provider (for
 * instance one backed by google-auth-library).
 */
export function metadataServerTokenProvider(options: MetadataTokenOptions = {}): TokenProvider {
  const host = process.env.GCE_METADATA_HOST;
  const base = (options.baseUrl ?? (host ? `http://${host}` : 'http://metadata.google.internal')).replace(/\/+$/, '');
  const margin = options.refreshMarginMs ?? 60_000;
  let cached: { token: string; expiresAt: number } | undefined;
  let inflight: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    const response = await sendRequest('cloud-run', `${base}/computeMetadata/v1/instance/service-accounts/default/token`, {
      method: 'GET',
      headers: { 'metadata-flavor': 'Google' },
      timeoutMs: 10_000,
      maxBytes: 64 * 1024,
    });
    if (!isOk(response.status)) throw new ExecutorError('cloud-run', `the metadata server answered ${response.status}`);
    const body = parseJson('cloud-run', response.text, 'the metadata token') as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string') throw new ExecutorError('cloud-run', 'the metadata server sent no access_token');
    const ttl = typeof body.expires_in === 'number' ? body.expires_in * 1000 : 300_000;
    cached = { token: body.access_token, expiresAt: Date.now() + ttl };
    return body.access_token;
  };
  return async () => {
    if (cached && cached.expiresAt - margin > Date.now()) return cached.token;
    // One refresh at a time, however many tasks ask at once.
    inflight ??= fetchToken().finally(() => (inflight = undefined));
    return inflight;
  };
}
