import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  BatonError,
  NotFoundError,
  ValidationError,
  createBaton,
  isClientError,
  type Baton,
  type Store,
  type TriggeredBy,
} from '@baton/core';
import { createDashboard } from '@baton/dashboard';
import { z } from 'zod';
import { tasks, type TaskModule } from './tasks/index.js';

export interface AppOptions {
  store: Store;
  /**
   * The shared secret webhooks must send in `x-webhook-secret`, at least 16
   * characters. Without one, webhooks are refused (503) rather than open to anyone.
   */
  webhookSecret?: string | undefined;
  /** Run cron schedules. @defaultValue true */
  schedules?: boolean;
  /**
   * Who may act in the dashboard at `/baton/` (trigger, cancel, retry, pause).
   * @defaultValue requests addressed to 127.0.0.1 or localhost (the Host header, so a DNS-rebinding page is refused)
   */
  authorizeDashboard?: (request: Request) => boolean | Promise<boolean>;
}

export interface App {
  server: Server;
  baton: Baton;
  close(): Promise<void>;
}

/**
 * Microlight as a host application: each task module becomes a one-step
 * workflow; HTTP triggers runs and reads them back with their logs.
 */
export async function createApp({ store, webhookSecret, schedules = true, authorizeDashboard = isLocalRequest }: AppOptions): Promise<App> {
  if (webhookSecret !== undefined && webhookSecret.length < MIN_SECRET_LENGTH) {
    throw new ValidationError('task-runner options', [
      { path: 'webhookSecret', message: `must be at least ${MIN_SECRET_LENGTH} characters (or left out to refuse webhooks)` },
    ]);
  }
  const baton = createBaton({ store, schedules, concurrency: 8, leaseMs: 10_000 });
  const bySlug = new Map<string, TaskModule>();
  for (const task of tasks) {
    bySlug.set(task.slug, task);
    await baton.defineWorkflow(
      {
        name: task.slug,
        description: task.description,
        retry: { maxAttempts: 1 },
        ...(task.timeoutMs !== undefined && { timeoutMs: task.timeoutMs }),
        schedules: task.schedule ? [{ cron: task.schedule.cron, inputs: task.schedule.inputs as never }] : [],
        steps: [{ name: 'run' }],
        // The dashboard builds its trigger form from this JSON Schema.
        metadata: { inputSchema: z.toJSONSchema(task.inputs, { io: 'input' }) as never },
      },
      { run: async (ctx) => (await task.run(ctx, task.inputs.parse(ctx.inputs))) as never },
    );
  }
  await baton.start();

  const trigger = async (slug: string, body: unknown, triggeredBy: TriggeredBy) => {
    const task = bySlug.get(slug);
    if (!task) throw new NotFoundError('task', slug);
    const parsed = task.inputs.safeParse(body ?? {});
    if (!parsed.success) {
      throw new ValidationError(
        `inputs of ${slug}`,
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    return baton.trigger(slug, { inputs: parsed.data as never, triggeredBy });
  };

  const routes: [string, RegExp, (req: IncomingMessage, match: RegExpMatchArray) => Promise<[number, unknown]>][] = [
    ['POST', /^\/api\/tasks\/([\w-]+)$/, async (req, m) => [201, await trigger(m[1]!, await readJson(req), 'api')]],
    [
      'POST',
      /^\/api\/webhooks\/([\w-]+)$/,
      async (req, m) => {
        if (webhookSecret === undefined) return [503, { error: 'webhooks are disabled: the server has no WEBHOOK_SECRET' }];
        if (!sameSecret(req.headers['x-webhook-secret'], webhookSecret)) return [401, { error: 'wrong or missing x-webhook-secret' }];
        return [202, await trigger(m[1]!, await readJson(req), 'webhook')];
      },
    ],
    ['GET', /^\/api\/runs$/, async () => [200, (await store.listRuns({ limit: 100 })).items.map(publicRun)]],
    [
      'GET',
      /^\/api\/runs\/([\w-]+)$/,
      async (_req, m) => {
        const run = await store.getRun(m[1]!);
        const logs = (await store.listLogs(run.id, { limit: 1000 })).items;
        return [200, { ...publicRun(run), logs: logs.map((l) => ({ ...l, content: publicText(l.content) })) }];
      },
    ],
    ['GET', /^\/api\/tasks$/, async () => [200, tasks.map((t) => ({ slug: t.slug, description: t.description }))]],
  ];

  const dashboard = createDashboard({ store, baton, basePath: '/baton', authorize: authorizeDashboard });
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/baton' || path.startsWith('/baton/')) return dashboard.node(req, res);
    for (const [method, pattern, handle] of routes) {
      const match = path.match(pattern);
      if (match && req.method === method) {
        try {
          const [status, body] = await handle(req, match);
          return send(res, status, body);
        } catch (error) {
          const status = statusOf(error);
          if (status === 500) {
            // A fault's message may name files and internals: it goes to the server's log, not to the caller.
            console.error(`task-runner: ${req.method} ${path} failed:`, error);
            return send(res, 500, { error: 'internal error (see the server log)' });
          }
          return send(res, status, {
            error: publicText((error as Error).message),
            ...(error instanceof ValidationError && { field: error.field }),
          });
        }
      }
    }
    send(res, 404, { error: `no route for ${req.method} ${path}` });
  });

  return {
    server,
    baton,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await baton.stop();
    },
  };
}

function isLocalRequest(request: Request): boolean {
  const host = new URL(request.url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

function statusOf(error: unknown): number {
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ValidationError) return 400;
  if (error instanceof BatonError && isClientError(error)) return 409;
  return 500;
}

const MIN_SECRET_LENGTH = 16;

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first, so not even the length leaks. */
function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string' || given === '') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Where this service runs from; HTTP answers name paths relative to it. */
const ROOTS = [fileURLToPath(new URL('../../..', import.meta.url)), `${process.cwd()}/`].sort((a, b) => b.length - a.length);

/**
 * Errors and logs as an HTTP caller may see them: without stack frames (they
 * map the server's code) and without the server's absolute paths.
 */
function publicText(text: string): string {
  let out = text
    .split('\n')
    .filter((line) => !/^\s+at\s/.test(line))
    .join('\n');
  for (const root of ROOTS) out = out.split(root).join('');
  return out.replace(/(?:file:\/\/)?\/(?:[\w.@+-]+\/)+[\w.@+-]+(?::\d+(?::\d+)?)?/g, '<path>');
}

function publicRun<T extends { error?: string | null }>(run: T): T {
  return run.error ? { ...run, error: publicText(run.error) } : run;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 1_000_000) throw new ValidationError('request body', [{ path: '', message: 'is larger than 1 MB' }]);
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError('request body', [{ path: '', message: `is not JSON: ${(error as Error).message}` }]);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
