import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BatonError,
  ConflictError,
  NotFoundError,
  RUN_STATUSES,
  TRIGGERS,
  ValidationError,
  isClientError,
  type Baton,
  type Json,
  type RunQuery,
  type RunStatus,
  type Store,
  type TriggeredBy,
} from '@baton/core';
import { Assets } from './assets.js';
import { cookieToken, csrfProblem, newToken, tokenCookie } from './csrf.js';
import { MAX_BODY_BYTES, toRequest, writeResponse } from './http.js';
import { page as htmlPage } from './page.js';
import { configView, workflowView } from './views.js';

export interface DashboardOptions {
  /** The store whose workflows and runs are shown. */
  store: Store;
  /**
   * The host's Baton. With it, actions go through the scheduler (events, idle
   * workers woken, running tasks of a cancelled run aborted at once); without
   * it, through the store (workers elsewhere pick the changes up).
   */
  baton?: Baton;
  /** Where the host mounts the dashboard. @defaultValue '/' */
  basePath?: string;
  /**
   * Decides whether a request may act (trigger, cancel, retry, pause, resume).
   * Without it the dashboard is read-only. The Node handler also passes the
   * Node request, so a host can read what its own middleware put there.
   */
  authorize?: (request: Request, nodeRequest?: IncomingMessage) => boolean | Promise<boolean>;
  /** Where unexpected errors go (the browser only sees "internal error"). @defaultValue console.error */
  onError?: (error: unknown) => void;
}

export interface Dashboard {
  /** A Node handler, for node:http, Express (`app.use(basePath, d.node)`) and Fastify (`reply.hijack()`, then `d.node(req.raw, reply.raw)`). */
  node(req: IncomingMessage, res: ServerResponse): void;
  /** A Fetch API handler, for Hono and the like. */
  fetch(request: Request): Promise<Response>;
}

/** Rows per page of the run list; tasks, logs and tool executions per page of a run. */
const RUNS_PAGE = 50;
const TASKS_PAGE = 200;
const LOGS_PAGE = 500;
const TOOLS_PAGE = 100;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const json = (status: number, body: unknown, headers: { [name: string]: string } = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });

// Stored text is rendered by the UI as text nodes or sanitized markdown; this
// policy is the second line: no inline script, no plugin, no foreign origin.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/**
 * Microlight's UI for Baton, as a handler the host mounts in its own server.
 *
 * @example
 * const dashboard = createDashboard({ store, baton, basePath: '/baton', authorize: (req) => isAdmin(req) });
 * http.createServer((req, res) => req.url!.startsWith('/baton') ? dashboard.node(req, res) : app(req, res));
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const { store, baton } = options;
  const base = normalizeBase(options.basePath ?? '/');
  const onError = options.onError ?? ((e: unknown) => console.error('[baton dashboard]', e));
  const assets = new Assets();

  async function canAct(request: Request, nodeRequest?: IncomingMessage): Promise<boolean> {
    if (!options.authorize) return false;
    try {
      return (await options.authorize(request, nodeRequest)) === true;
    } catch (error) {
      // A host's authorize that throws denies: the dashboard falls back to read-only, never open.
      onError(error);
      return false;
    }
  }

  async function handle(request: Request, nodeRequest?: IncomingMessage): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === base && base !== '') return new Response(null, { status: 308, headers: { location: `${base}/${url.search}` } });
    if (!path.startsWith(`${base}/`)) return json(404, { error: `not under ${base || '/'}` });
    const rel = path.slice(base.length);
    try {
      if (request.method === 'GET' || request.method === 'HEAD') {
        if (rel === '/') return await index(request);
        if (rel === '/api/session') return await session(request, nodeRequest);
        const asset = rel.match(/^\/assets\/([^/]+)$/);
        if (asset) return await serveAsset(asset[1]!);
        if (rel.startsWith('/api/')) return json(200, await read(rel.slice(4), url.searchParams));
        return json(404, { error: `no page ${rel}` });
      }
      if (request.method === 'POST' && rel.startsWith('/api/')) {
        const problem = csrfProblem(request);
        if (problem) return json(403, { error: problem });
        if (!(await canAct(request, nodeRequest)))
          return json(403, { error: 'not authorized to act: this dashboard is read-only for you' });
        if (request.headers.get('x-baton-body-too-large'))
          return json(413, { error: `request body is larger than ${MAX_BODY_BYTES} bytes` });
        return json(200, await act(rel.slice(4), request));
      }
      return json(405, { error: `${request.method} not allowed` }, { allow: 'GET, HEAD, POST' });
    } catch (error) {
      return errorResponse(error, onError);
    }
  }

  async function index(request: Request): Promise<Response> {
    const token = cookieToken(request) ?? newToken();
    const headers: { [name: string]: string } = {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...SECURITY_HEADERS,
    };
    if (!cookieToken(request)) headers['set-cookie'] = tokenCookie(token, `${base}/`);
    const ui = await assets.get('app.js');
    if (!ui) return new Response(htmlPage.missing, { status: 503, headers });
    return new Response(htmlPage.app, { status: 200, headers });
  }

  /** Who the browser is to this dashboard, and the CSRF token its POSTs must carry (issued here when the shell did not). */
  async function session(request: Request, nodeRequest?: IncomingMessage): Promise<Response> {
    const existing = cookieToken(request);
    const token = existing ?? newToken();
    const body = { canAct: await canAct(request, nodeRequest), csrfToken: token, hasScheduler: baton !== undefined, store: store.kind };
    return json(200, body, existing ? {} : { 'set-cookie': tokenCookie(token, `${base}/`) });
  }

  async function serveAsset(name: string): Promise<Response> {
    const asset = await assets.get(name);
    if (!asset) return json(404, { error: `no asset ${name}` });
    return new Response(asset.body as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': asset.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS },
    });
  }

  async function read(api: string, q: URLSearchParams): Promise<unknown> {
    let m: RegExpMatchArray | null;
    if (api === '/workflows') {
      const page = await store.listWorkflows({ limit: 100, cursor: q.get('cursor') });
      const items = await Promise.all(page.items.map(async (w) => workflowView(w, await store.countRuns({ workflowId: w.id }))));
      return { items, nextCursor: page.nextCursor };
    }
    if ((m = api.match(/^\/workflows\/([^/]+)$/))) {
      const workflow = await store.getWorkflow(m[1]!);
      return workflowView(workflow, await store.countRuns({ workflowId: workflow.id }));
    }
    if (api === '/runs') return store.listRuns(runQuery(q));
    if ((m = api.match(/^\/runs\/([^/]+)$/))) {
      const run = await store.getRun(m[1]!);
      const [tasks, workflow] = await Promise.all([
        store.listTasks({ runId: run.id, limit: TASKS_PAGE }),
        store.getWorkflow(run.workflowId).then(workflowView, () => null),
      ]);
      return { run, tasks, workflow };
    }
    if ((m = api.match(/^\/runs\/([^/]+)\/tasks$/))) return store.listTasks({ runId: m[1]!, limit: TASKS_PAGE, cursor: q.get('cursor') });
    if ((m = api.match(/^\/runs\/([^/]+)\/logs$/))) return store.listLogs(m[1]!, { limit: LOGS_PAGE, cursor: q.get('cursor') });
    if ((m = api.match(/^\/runs\/([^/]+)\/tools$/)))
      return store.listToolExecutions({ runId: m[1]!, limit: TOOLS_PAGE, cursor: q.get('cursor') });
    if (api === '/config') return (await store.listConfig()).map(configView);
    throw new HttpError(404, `no API ${api}`);
  }

  async function act(api: string, request: Request): Promise<unknown> {
    let m: RegExpMatchArray | null;
    if ((m = api.match(/^\/runs\/([^/]+)\/cancel$/))) {
      const reason = 'cancelled from the dashboard';
      return { run: baton ? await baton.cancelRun(m[1]!, reason) : await store.cancelRun(m[1]!, reason) };
    }
    if ((m = api.match(/^\/runs\/([^/]+)\/retry$/))) return { run: baton ? await baton.retry(m[1]!) : await store.retryRun(m[1]!) };
    if ((m = api.match(/^\/workflows\/([^/]+)\/(pause|resume)$/))) {
      const workflow = await store.getWorkflow(m[1]!);
      if (workflow.status === 'archived' || workflow.status === 'draft')
        throw new ConflictError(
          'workflow',
          `"${workflow.name}" is ${workflow.status}: only active and paused workflows can be paused or resumed`,
        );
      const updated =
        m[2] === 'pause'
          ? baton
            ? await baton.pauseWorkflow(workflow.name)
            : await store.updateWorkflow(workflow.id, { status: 'paused' })
          : baton
            ? await baton.resumeWorkflow(workflow.name)
            : await store.updateWorkflow(workflow.id, { status: 'active' });
      return workflowView(updated);
    }
    if ((m = api.match(/^\/workflows\/([^/]+)\/runs$/))) {
      const workflow = await store.getWorkflow(m[1]!);
      const body = await readBody(request);
      const inputs = body.inputs ?? {};
      if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
        throw new ValidationError('run inputs', [{ path: 'inputs', message: 'must be a JSON object' }]);
      }
      const triggered = {
        inputs: inputs as { [key: string]: Json },
        triggeredBy: 'user' as const,
        metadata: { triggeredFrom: 'dashboard' },
      };
      const run = baton
        ? await baton.trigger(workflow.name, triggered)
        : (await store.createRun({ workflowId: workflow.id, ...triggered })).run;
      return { run };
    }
    throw new HttpError(404, `no action ${api}`);
  }

  return {
    node(req, res) {
      toRequest(req)
        .then((request) => {
          // A body past the limit was not read to its end: answer, then drop the connection rather than drain it.
          if (request.headers.get('x-baton-body-too-large')) res.on('finish', () => req.destroy());
          return handle(request, req);
        })
        .then((response) => writeResponse(response, res))
        .catch((error) => {
          onError(error);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'internal error' }));
        });
    },
    fetch: (request) => handle(request),
  };
}

function normalizeBase(basePath: string): string {
  if (!basePath.startsWith('/'))
    throw new ValidationError('dashboard options', [{ path: 'basePath', message: `must start with "/" (got "${basePath}")` }]);
  return basePath.replace(/\/+$/, '');
}

function runQuery(q: URLSearchParams): RunQuery {
  const query: RunQuery = { limit: Math.min(Number(q.get('limit')) || RUNS_PAGE, 200) };
  const status = q.get('status');
  const triggeredBy = q.get('triggeredBy');
  if (q.get('workflowId')) query.workflowId = q.get('workflowId')!;
  if (status) {
    if (!(RUN_STATUSES as readonly string[]).includes(status))
      throw new ValidationError('run filter', [{ path: 'status', message: `must be one of ${RUN_STATUSES.join(', ')}` }]);
    query.status = status as RunStatus;
  }
  if (triggeredBy) {
    if (!(TRIGGERS as readonly string[]).includes(triggeredBy))
      throw new ValidationError('run filter', [{ path: 'triggeredBy', message: `must be one of ${TRIGGERS.join(', ')}` }]);
    query.triggeredBy = triggeredBy as TriggeredBy;
  }
  if (q.get('cursor')) query.cursor = q.get('cursor');
  return query;
}

async function readBody(request: Request): Promise<{ [key: string]: unknown }> {
  const text = await request.text();
  if (text.trim() === '') return {};
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as { [key: string]: unknown };
  } catch {
    // answered below
  }
  throw new ValidationError('request body', [{ path: '', message: 'must be a JSON object' }]);
}

function errorResponse(error: unknown, onError: (e: unknown) => void): Response {
  if (error instanceof HttpError) return json(error.status, { error: error.message });
  if (error instanceof NotFoundError) return json(404, { error: error.message, code: error.code });
  if (error instanceof ValidationError) return json(400, { error: error.message, code: error.code, field: error.field });
  if (error instanceof BatonError && isClientError(error)) return json(409, { error: error.message, code: error.code });
  onError(error);
  return json(500, { error: 'internal error' });
}
