import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body accepted (a trigger's inputs): 1 MB. */
export const MAX_BODY_BYTES = 1_000_000;

/** Express keeps the full path in `originalUrl` when the handler is mounted under a prefix. */
type NodeRequest = IncomingMessage & { originalUrl?: string };

/** A Fetch `Request` from a Node request, so that one handler serves node:http, Express, Fastify and Hono. */
export async function toRequest(req: NodeRequest): Promise<Request> {
  const host = req.headers.host ?? '127.0.0.1';
  const url = new URL(req.originalUrl ?? req.url ?? '/', `http://${host}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'x-baton-body-too-large') continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Past the limit, stop buffering; the handler answers 413 from the header below.
    if (size > MAX_BODY_BYTES) {
      headers.set('x-baton-body-too-large', '1');
      headers.set('connection', 'close');
      return new Request(url, { method, headers });
    }
    chunks.push(chunk);
  }
  return new Request(url, { method, headers, body: Buffer.concat(chunks) });
}

/** Writes a Fetch `Response` to a Node response. */
export async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: { [name: string]: string | string[] } = {};
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') return;
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  res.writeHead(response.status, headers);
  res.end(body);
}
