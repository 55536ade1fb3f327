import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Condition, Execution } from './execution.js';

/** How one job of the fake behaves. */
export interface FakeCloudRunJob {
  /** How long each execution runs. @defaultValue 50 */
  durationMs?: number;
  /** Cloud Run tasks per execution when the run gives no override. @defaultValue 1 */
  taskCount?: number;
  /** This many tasks of each execution fail. @defaultValue 0 */
  failedTasks?: number;
  /** Message of the failed `Completed` condition. */
  failureMessage?: string;
  /** The next this-many `run` calls answer 500. @defaultValue 0 */
  runFailures?: number;
}

export interface FakeCloudRunOptions {
  /** When set, requests must carry `Authorization: Bearer <token>` or get 401. */
  token?: string;
  jobs?: Record<string, FakeCloudRunJob>;
}

export interface FakeRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export interface FakeExecution {
  name: string;
  job: string;
  taskCount: number;
  env: Record<string, string>;
  overrides: unknown;
  startedAt: number;
  endsAt: number;
  failedTasks: number;
  failureMessage: string;
  cancelledAt: number | null;
  /** GET requests seen for this execution. */
  polls: number;
}

export interface FakeCloudRun {
  /** The `endpoint` to give `cloudRunExecutor`. */
  readonly url: string;
  readonly requests: FakeRequest[];
  readonly executions: Map<string, FakeExecution>;
  /** Adds or changes a job's behaviour. */
  setJob(name: string, job: FakeCloudRunJob): void;
  close(): Promise<void>;
}

/**
 * A stand-in for the Cloud Run Admin API v2 on 127.0.0.1, for tests and
 * examples: `jobs.run` (answers an Operation whose metadata is the
 * Execution), `executions.get` (progress derived from the clock) and
 * `executions.cancel`, with Google-shaped errors (404, 401, 500).
 *
 * @example
 * const fake = await startFakeCloudRun({ jobs: { etl: { durationMs: 200 } } });
 * const executor = cloudRunExecutor({ endpoint: fake.url, tokenProvider: async () => 'test', pollIntervalMs: 50 });
 */
export async function startFakeCloudRun(options: FakeCloudRunOptions = {}): Promise<FakeCloudRun> {
  const jobs = new Map(Object.entries(options.jobs ?? {}));
  const requests: FakeRequest[] = [];
  const executions = new Map<string, FakeExecution>();
  let counter = 0;

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'body is not JSON');
    }
    requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    const run = /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/jobs\/([^/:]+):run$/.exec(path);
    if (run && req.method === 'POST') {
      const [, project, region, jobName] = run as unknown as [string, string, string, string];
      const job = jobs.get(jobName);
      if (!job)
        return googleError(res, 404, 'NOT_FOUND', `Resource 'projects/${project}/locations/${region}/jobs/${jobName}' was not found`);
      if ((job.runFailures ?? 0) > 0) {
        job.runFailures!--;
        return googleError(res, 500, 'INTERNAL', 'Internal error encountered.');
      }
      const overrides = (body as { overrides?: { taskCount?: number; containerOverrides?: { env?: { name: string; value: string }[] }[] } })
        ?.overrides;
      const suffix = (++counter).toString(36).padStart(5, '0');
      const now = Date.now();
      const execution: FakeExecution = {
        name: `projects/${project}/locations/${region}/jobs/${jobName}/executions/${jobName}-${suffix}`,
        job: jobName,
        taskCount: overrides?.taskCount ?? job.taskCount ?? 1,
        env: Object.fromEntries((overrides?.containerOverrides?.[0]?.env ?? []).map((e) => [e.name, e.value])),
        overrides: overrides ?? null,
        startedAt: now,
        endsAt: now + (job.durationMs ?? 50),
        failedTasks: job.failedTasks ?? 0,
        failureMessage: job.failureMessage ?? 'Task failed: the container exited with code 1.',
        cancelledAt: null,
        polls: 0,
      };
      executions.set(execution.name, execution);
      return json(res, 200, operation(project, region, view(execution)));
    }
    const cancel = /^\/v2\/(projects\/([^/]+)\/locations\/([^/]+)\/jobs\/[^/]+\/executions\/[^/:]+):cancel$/.exec(path);
    if (cancel && req.method === 'POST') {
      const execution = executions.get(cancel[1]!);
      if (!execution) return googleError(res, 404, 'NOT_FOUND', `Resource '${cancel[1]}' was not found`);
      if (execution.cancelledAt === null && Date.now() < execution.endsAt) execution.cancelledAt = Date.now();
      return json(res, 200, operation(cancel[2]!, cancel[3]!, view(execution)));
    }
    const get = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+\/executions\/[^/:]+)$/.exec(path);
    if (get && req.method === 'GET') {
      const execution = executions.get(get[1]!);
      if (!execution) return googleError(res, 404, 'NOT_FOUND', `Resource '${get[1]}' was not found`);
      execution.polls++;
      return json(res, 200, view(execution));
    }
    return googleError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${path}`);
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk));
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    executions,
    setJob: (name, job) => void jobs.set(name, { ...job }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The Execution resource as the API would show it now. */
function view(e: FakeExecution): Execution & { createTime: string; startTime: string; reconciling: boolean; uid: string } {
  const now = Date.now();
  const base = {
    name: e.name,
    uid: e.name.split('/').at(-1)!,
    createTime: new Date(e.startedAt).toISOString(),
    startTime: new Date(e.startedAt).toISOString(),
    taskCount: e.taskCount,
    retriedCount: 0,
    logUri: `https://console.cloud.google.com/logs/viewer?execution=${encodeURIComponent(e.name)}`,
  };
  const ready: Condition[] = [
    { type: 'ResourcesAvailable', state: 'CONDITION_SUCCEEDED' },
    { type: 'Started', state: 'CONDITION_SUCCEEDED' },
  ];
  if (e.cancelledAt !== null) {
    return {
      ...base,
      reconciling: false,
      runningCount: 0,
      succeededCount: 0,
      failedCount: 0,
      cancelledCount: e.taskCount,
      completionTime: new Date(e.cancelledAt).toISOString(),
      conditions: [
        ...ready,
        { type: 'Completed', state: 'CONDITION_FAILED', executionReason: 'CANCELLED', message: 'The execution was cancelled.' },
      ],
    };
  }
  if (now < e.endsAt) {
    return {
      ...base,
      reconciling: true,
      runningCount: e.taskCount,
      succeededCount: 0,
      failedCount: 0,
      cancelledCount: 0,
      conditions: [...ready, { type: 'Completed', state: 'CONDITION_PENDING' }],
    };
  }
  const failed = Math.min(e.failedTasks, e.taskCount);
  return {
    ...base,
    reconciling: false,
    runningCount: 0,
    succeededCount: e.taskCount - failed,
    failedCount: failed,
    cancelledCount: 0,
    completionTime: new Date(e.endsAt).toISOString(),
    conditions: [
      ...ready,
      failed > 0
        ? { type: 'Completed', state: 'CONDITION_FAILED', executionReason: 'NON_ZERO_EXIT_CODE', message: e.failureMessage }
        : { type: 'Completed', state: 'CONDITION_SUCCEEDED', message: 'Execution completed successfully.' },
    ],
  };
}

function operation(project: string, region: string, execution: Execution) {
  return {
    name: `projects/${project}/locations/${region}/operations/${randomUUID()}`,
    metadata: { '@type': 'type.googleapis.com/google.cloud.run.v2.Execution', ...execution },
    done: false,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function googleError(res: ServerResponse, code: number, status: string, message: string): void {
  json(res, code, { error: { code, message, status } });
}
