import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutorError, ValidationError, type Json } from '@baton/core';
import { cloudRunExecutor, metadataServerTokenProvider } from '../../src/cloud-run/index.js';
import { startFakeCloudRun, type FakeCloudRun } from '../../src/testing/index.js';
import { makeContext, waitFor, type ContextOptions } from '../helpers.js';

const TOKEN = 'ya29.test-token';
const JOB = { project: 'acme-data', region: 'us-central1' };
let fake: FakeCloudRun;

beforeAll(async () => {
  fake = await startFakeCloudRun({
    token: TOKEN,
    jobs: {
      quick: { durationMs: 20 },
      slow: { durationMs: 400 },
      flaky: { durationMs: 20, runFailures: 1 },
      broken: { durationMs: 20, taskCount: 3, failedTasks: 2, failureMessage: 'Task broken-0 failed: exit code 2' },
      endless: { durationMs: 60_000 },
    },
  });
});
afterAll(() => fake.close());

const make = () => cloudRunExecutor({ endpoint: fake.url, tokenProvider: async () => TOKEN, pollIntervalMs: 20 });
const run = async (config: { [key: string]: Json }, options: ContextOptions = {}, exec = make()) => {
  const t = makeContext({ config: { ...JOB, ...config }, ...options });
  const result = await exec.execute(t.ctx).then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error as Error }),
  );
  return { t, ...result } as { t: typeof t; value?: Json; error?: Error };
};

describe('cloud-run executor', () => {
  it('runs the job with overrides, records the execution and returns its counts', async () => {
    const { t, value } = await run(
      { job: 'quick', taskCount: 4, timeoutSeconds: 600, args: ['--full'], env: { MODE: 'full' } },
      { params: { day: 'mon' }, taskIndex: 1, taskCount: 2, attempt: 1 },
    );
    const name = t.started[0]!;
    expect(name).toMatch(/^projects\/acme-data\/locations\/us-central1\/jobs\/quick\/executions\/quick-\w+$/);
    expect(value).toMatchObject({ executionName: name, taskCount: 4, succeededCount: 4, failedCount: 0, cancelledCount: 0 });
    expect((value as { completionTime: string }).completionTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    const execution = fake.executions.get(name)!;
    expect(execution.env).toMatchObject({
      MODE: 'full',
      TASK_INDEX: '1',
      TASK_COUNT: '2',
      BATON_RUN_ID: t.ctx.run.id,
      BATON_TASK_ID: t.ctx.task.id,
      BATON_ATTEMPT: '1',
      BATON_PARAMS: '{"day":"mon"}',
    });
    expect(execution.overrides).toMatchObject({ taskCount: 4, timeout: '600s', containerOverrides: [{ args: ['--full'] }] });
    const runRequest = fake.requests.find((r) => r.path.endsWith('/jobs/quick:run'))!;
    expect(runRequest.method).toBe('POST');
    expect(runRequest.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.stringify(t.logs)).not.toContain(TOKEN);
  });

  it('polls a slow execution until it completes, logging progress', async () => {
    const { t, value } = await run({ job: 'slow' });
    expect(value).toMatchObject({ succeededCount: 1 });
    expect(fake.executions.get(t.started[0]!)!.polls).toBeGreaterThan(3);
    expect(t.lines('log')).toEqual([
      `execution ${t.started[0]}: 1 running, 0 succeeded, 0 failed, 0 cancelled of 1`,
      `execution ${t.started[0]}: 0 running, 1 succeeded, 0 failed, 0 cancelled of 1`,
    ]);
  });

  it('fails an attempt on a 500 from run, and the next attempt runs', async () => {
    const first = await run({ job: 'flaky' });
    expect(first.error).toBeInstanceOf(ExecutorError);
    expect(first.error!.message).toBe('cloud-run: run job flaky: HTTP 500: INTERNAL: Internal error encountered.');
    expect(first.t.started).toEqual([]);
    const second = await run({ job: 'flaky' }, { attempt: 2 });
    expect(second.value).toMatchObject({ succeededCount: 1 });
  });

  it("fails a failed execution with its condition's message and counts", async () => {
    const { error } = await run({ job: 'broken' });
    expect(error).toBeInstanceOf(ExecutorError);
    expect(error!.message).toMatch(
      /execution .*broken-\w+ failed: Task broken-0 failed: exit code 2 \(1 succeeded, 2 failed, 0 cancelled of 3\)/,
    );
  });

  it('cancels the execution when the task is aborted', async () => {
    const t = makeContext({ config: { ...JOB, job: 'endless' } });
    const running = make().execute(t.ctx);
    running.catch(() => {});
    expect(await waitFor(() => t.started.length === 1)).toBe(true);
    t.abort(new Error('run cancelled by user'));
    await expect(running).rejects.toThrow('run cancelled by user');
    const name = t.started[0]!;
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === `/v2/${name}:cancel`)).toBe(true);
    expect(fake.executions.get(name)!.cancelledAt).not.toBeNull();
    expect(t.lines('warn')).toContain(`cancelled execution ${name}`);
  });

  it('cancels an execution whose run request was in flight when the task was aborted', async () => {
    const t = makeContext({ config: { ...JOB, job: 'endless' } });
    const running = make().execute(t.ctx);
    t.abort(new Error('shutting down'));
    await expect(running).rejects.toThrow('shutting down');
    const name = t.started[0]!;
    expect(fake.executions.get(name)!.cancelledAt).not.toBeNull();
  });

  it('reports auth failures, unknown jobs and token provider errors clearly', async () => {
    const badToken = cloudRunExecutor({ endpoint: fake.url, tokenProvider: async () => 'wrong', pollIntervalMs: 20 });
    expect((await run({ job: 'quick' }, {}, badToken)).error!.message).toMatch(/run job quick: HTTP 401: UNAUTHENTICATED/);
    expect((await run({ job: 'nope' })).error!.message).toMatch(/run job nope: HTTP 404: NOT_FOUND: Resource .*jobs\/nope' was not found/);
    const noToken = cloudRunExecutor({ endpoint: fake.url, tokenProvider: async () => Promise.reject(new Error('no credentials')) });
    expect((await run({ job: 'quick' }, {}, noToken)).error!.message).toMatch(/could not get an access token: no credentials/);
  });

  it('keeps polling through a few failed polls, and gives up after maxPollErrors', async () => {
    let calls = 0;
    const wobbly = async () => {
      calls++;
      if (calls === 2 || calls === 3) throw new Error('metadata server hiccup');
      return TOKEN;
    };
    const tolerant = cloudRunExecutor({ endpoint: fake.url, tokenProvider: wobbly, pollIntervalMs: 20, maxPollErrors: 2 });
    const ok = await run({ job: 'slow' }, {}, tolerant);
    expect(ok.value).toMatchObject({ succeededCount: 1 });
    expect(ok.t.lines('warn').filter((l) => l.includes('hiccup'))).toHaveLength(2);
    let n = 0;
    const failing = async () => (++n === 1 ? TOKEN : Promise.reject(new Error('gone for good')));
    const strict = cloudRunExecutor({ endpoint: fake.url, tokenProvider: failing, pollIntervalMs: 20, maxPollErrors: 2 });
    expect((await run({ job: 'slow' }, {}, strict)).error!.message).toMatch(/gone for good/);
  });

  it("follows, reuses or replaces an earlier attempt's execution", async () => {
    const first = makeContext({ config: { ...JOB, job: 'slow' } });
    const firstRun = make().execute(first.ctx);
    expect(await waitFor(() => first.started.length === 1)).toBe(true);
    const name = first.started[0]!;
    const runs = () => fake.requests.filter((r) => r.path.endsWith(':run')).length;
    const before = runs();
    // The worker "died": a new attempt of the same task finds the execution still running and follows it.
    const followed = await run({ job: 'slow' }, { attempt: 2, executionName: name });
    expect(followed.value).toMatchObject({ executionName: name, succeededCount: 1 });
    expect(followed.t.lines('info')).toContain(`following execution ${name}, started by an earlier attempt`);
    await firstRun;
    // Succeeded already: returned as is.
    const reused = await run({ job: 'slow' }, { attempt: 3, executionName: name });
    expect(reused.value).toMatchObject({ executionName: name });
    expect(reused.t.started).toEqual([]);
    expect(runs()).toBe(before);
    // A failed one is replaced by a new execution.
    const broken = await run({ job: 'broken' });
    const retried = await run({ job: 'broken' }, { attempt: 2, executionName: broken.t.started[0]! });
    expect(retried.t.started[0]).not.toBe(broken.t.started[0]);
    expect(runs()).toBe(before + 2);
  });

  it('validates step config, naming the bad field', () => {
    const check = (config: { [key: string]: Json }) => () =>
      cloudRunExecutor({ tokenProvider: async () => TOKEN }).validateConfig!(config, makeContext().ctx.step);
    expect(check({})).toThrow(ValidationError);
    expect(check({ region: 'us-central1', job: 'x' })).toThrow(/project: is required/);
    expect(check({ project: 'p-1', job: 'x' })).toThrow(/region: is required/);
    expect(check({ project: 'p-1', region: 'us-central1' })).toThrow(/job: is required/);
    expect(check({ project: 'p-1', region: 'us-central1', job: '../../evil' })).toThrow(/job: must be a Cloud Run job name/);
    expect(check({ project: 'p/1', region: 'us-central1', job: 'x' })).toThrow(/project: must be/);
    expect(check({ ...JOB, job: 'x', taskCount: 0 })).toThrow(/taskCount: must be an integer/);
    expect(check({ ...JOB, jobName: 'x', job: 'y' })).toThrow(/jobName: give job or jobName/);
    expect(check({ ...JOB, jobName: 'example-task' })).not.toThrow();
  });
});

describe('metadataServerTokenProvider', () => {
  it('reads and caches the token from the metadata server', async () => {
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      if (req.headers['metadata-flavor'] !== 'Google') return res.writeHead(403).end('missing header');
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: `tok-${hits}`, expires_in: 3599, token_type: 'Bearer' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const provider = metadataServerTokenProvider({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      expect(await Promise.all([provider(), provider()])).toEqual(['tok-1', 'tok-1']);
      expect(await provider()).toBe('tok-1');
      expect(hits).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
