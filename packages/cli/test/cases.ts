import { afterAll, describe, expect, it } from 'vitest';
import { createBaton, type Baton, type Log, type Run, type Store, type Task, type Workflow } from '@baton/core';
import { baton, start, type Result } from './helpers.js';

/** A store the CLI is pointed at: its global arguments and an in-process handle on the same data. */
export interface CliStoreSetup {
  /** Global arguments (`--db …`), and environment for the child (BATON_DB …). */
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Opens the same store in this process (after `baton migrate` created it). */
  open(): Promise<Store>;
  cleanup(): Promise<void>;
  /** Whether a fresh store lists pending migrations before `baton migrate` (SQL stores). */
  pendingBeforeMigrate: boolean;
}

const json = <T>(r: Result): T => {
  expect(r.stderr, 'stderr').toBe('');
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
};

/** One line on stderr, `baton: …`, no stack frames. */
const oneErrorLine = (r: Result, code: number, pattern: RegExp) => {
  expect(r.code, `exit code; stdout ${r.stdout}`).toBe(code);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^baton: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
};

/**
 * Every command of the real binary against one store, with a Baton worker in
 * this process executing the runs the CLI triggers (the CLI itself runs no
 * tasks, as in production: a host's worker does).
 */
export function cliCases(name: string, setup: () => Promise<CliStoreSetup>): void {
  // Each case spawns the binary a dozen times; on a loaded 2-core machine that takes a while.
  describe(`baton CLI on the ${name} store`, { timeout: 240_000 }, () => {
    let s: CliStoreSetup;
    let store: Store | undefined;
    let worker: Baton | undefined;
    let release: () => void = () => {};
    let flakyFixed = false;
    const cli = (...args: string[]) => baton([...s.args, ...args], { env: s.env ?? {} });

    afterAll(async () => {
      release();
      await worker?.stop();
      await store?.close();
      await s?.cleanup();
    });

    /** Defines the test workflows and starts a worker on the store the CLI uses. */
    async function startWorker(): Promise<Baton> {
      if (worker) return worker;
      store = await s.open();
      const b = createBaton({ store, pollIntervalMs: 100, concurrency: 20, logger: { warn: () => {}, error: () => {} } });
      await b.defineWorkflow(
        { name: 'hello', steps: [{ name: 'greet' }] },
        {
          greet: async (ctx) => {
            ctx.log('plain line');
            ctx.info(`hello ${String(ctx.inputs.name)}`);
            ctx.warn('careful');
            ctx.danger('danger zone');
            ctx.success('all good');
            ctx.json({ n: ctx.inputs.n });
            ctx.markdown('# title');
            return { greeted: ctx.inputs.name ?? null };
          },
        },
      );
      await b.defineWorkflow(
        { name: 'boom', retry: { maxAttempts: 1 }, steps: [{ name: 'explode' }] },
        {
          explode: async (ctx) => {
            const error = new Error('kaboom');
            ctx.error(error);
            throw error;
          },
        },
      );
      await b.defineWorkflow(
        {
          name: 'fan',
          schedules: [{ cron: '0 3 * * *' }],
          steps: [
            { name: 'shard', taskCount: 3 },
            { name: 'sum', dependsOn: ['shard'] },
          ],
        },
        {
          shard: async (ctx) => {
            await ctx.started(`exec-${ctx.run.id}-${ctx.taskIndex}`);
            return ctx.taskIndex;
          },
          sum: async (ctx) => (ctx.upstream.shard as number[]).reduce((a, b) => a + b, 0),
        },
      );
      let gate!: Promise<void>;
      const arm = () => (gate = new Promise<void>((r) => (release = r)));
      arm();
      await b.defineWorkflow(
        { name: 'slow', steps: [{ name: 'wait' }] },
        {
          wait: async (ctx) => {
            ctx.info('first line');
            await gate;
            ctx.success('second line');
            return 'done';
          },
        },
      );
      await b.defineWorkflow(
        { name: 'flaky', retry: { maxAttempts: 1 }, steps: [{ name: 'first' }, { name: 'then', dependsOn: ['first'] }] },
        {
          first: async () => {
            if (!flakyFixed) throw new Error('not yet');
            return 'fixed';
          },
          // biome-ignore lint/suspicious/noThenProperty: a step named 'then', as users may name one; the object is never awaited
          then: async (ctx) => ctx.upstream.first,
        },
      );
      await b.defineWorkflow({ name: 'parked', steps: [{ name: 'never' }] }, { never: async () => 'x' });
      await b.start();
      worker = b;
      return b;
    }

    it('migrate --status, migrate, and again: pending, then applied, then up to date', async () => {
      s = await setup();
      const before = json<{ name: string; appliedAt: string | null }[]>(await cli('migrate', '--status', '--json'));
      expect(before.length).toBeGreaterThan(0);
      expect(before.every((m) => (m.appliedAt === null) === s.pendingBeforeMigrate)).toBe(true);
      const first = json<{ applied: string[]; migrations: { name: string; appliedAt: string | null }[] }>(await cli('migrate', '--json'));
      expect(first.applied).toEqual(s.pendingBeforeMigrate ? before.map((m) => m.name) : []);
      expect(first.migrations.every((m) => m.appliedAt !== null)).toBe(true);
      const again = await cli('migrate');
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/up to date/);
      const status = await cli('migrate', '--status');
      // Off a TTY: tab-separated, no header.
      expect(
        status.stdout
          .trim()
          .split('\n')
          .map((l) => l.split('\t').slice(0, 2)),
      ).toEqual(before.map((m) => [m.name, 'applied']));
    });

    it('workflows lists name, status, steps and schedules; pause, resume and archive change the status', async () => {
      await startWorker();
      const listed = json<Workflow[]>(await cli('workflows', '--json'));
      expect(listed.map((w) => w.name).sort()).toEqual(['boom', 'fan', 'flaky', 'hello', 'parked', 'slow']);
      const text = await cli('workflows');
      const fan = text.stdout.split('\n').find((l) => l.startsWith('fan\t'));
      expect(fan?.split('\t')).toEqual(['fan', 'active', 'shard×3 sum(after shard)', '0 3 * * *']);

      expect(json<Workflow>(await cli('pause', 'parked', '--json')).status).toBe('paused');
      expect(json<Workflow[]>(await cli('workflows', '--status', 'paused', '--json')).map((w) => w.name)).toEqual(['parked']);
      expect((await cli('resume', 'parked')).stdout.trim()).toBe('parked is active');
      expect((await store!.findWorkflow('parked'))?.status).toBe('active');
      expect((await cli('archive', 'parked')).stdout.trim()).toBe('parked is archived');
      // An archived workflow refuses new runs: one line, exit 1.
      oneErrorLine(await cli('trigger', 'parked'), 1, /archived and cannot be triggered/);
      await cli('resume', 'parked');
      oneErrorLine(await cli('pause', 'nope'), 1, /workflow not found: nope/);
    });

    it('trigger --wait: exit 0 on success with the inputs given, exit 3 when the run fails', async () => {
      await startWorker();
      const ok = json<Run>(
        await cli(
          'trigger',
          'hello',
          '--inputs',
          '{"name":"Bob","extra":true}',
          '--input',
          'name=Ada',
          '--input',
          'n:=3',
          '--wait',
          '--json',
        ),
      );
      expect(ok).toMatchObject({
        status: 'success',
        workflowName: 'hello',
        triggeredBy: 'user',
        inputs: { name: 'Ada', n: 3, extra: true },
      });
      expect((await store!.getRun(ok.id)).status).toBe('success');

      const failed = await cli('trigger', 'boom', '--wait');
      expect(failed.code).toBe(3);
      expect(failed.stdout).toMatch(/ failed in .*kaboom/);

      // Without --wait off a TTY: the run id alone, for RUN=$(baton trigger …).
      const plain = await cli('trigger', 'fan');
      expect(plain.code).toBe(0);
      const runId = plain.stdout.trim();
      expect((await worker!.waitForRun(runId)).status).toBe('success');
      const keyed = await Promise.all([
        cli('trigger', 'hello', '--idempotency-key', 'k1'),
        cli('trigger', 'hello', '--idempotency-key', 'k1'),
      ]);
      expect(keyed[0]!.stdout).toBe(keyed[1]!.stdout);

      const errors = await Promise.all([
        cli('trigger', 'hello', '--inputs', '[1]'),
        cli('trigger', 'hello', '--inputs', '{oops'),
        cli('trigger', 'hello', '--input', 'novalue'),
        cli('trigger', 'hello', '--input', 'n:=nope'),
        cli('trigger', 'nope'),
      ]);
      oneErrorLine(errors[0]!, 2, /--inputs must be a JSON object/);
      oneErrorLine(errors[1]!, 2, /--inputs is not valid JSON/);
      oneErrorLine(errors[2]!, 2, /key=value/);
      oneErrorLine(errors[3]!, 2, /needs a JSON value/);
      oneErrorLine(errors[4]!, 1, /workflow not found: nope/);
    });

    it('runs filters by workflow and status and limits; show draws steps and tasks', async () => {
      await startWorker();
      const all = json<Run[]>(await cli('runs', '--json', '--limit', '100'));
      expect(all.length).toBeGreaterThanOrEqual(4);
      expect(all.map((r) => r.createdAt)).toEqual([...all.map((r) => r.createdAt)].sort().reverse());
      const [helloR, failedR, oneR, boomR, fanR] = await Promise.all([
        cli('runs', '--workflow', 'hello', '--json'),
        cli('runs', '--status', 'failed', '--json'),
        cli('runs', '-n', '1', '--json'),
        cli('runs', '--workflow', 'boom'),
        cli('runs', '--workflow', 'fan', '--json'),
      ]);
      const hello = json<Run[]>(helloR);
      expect(hello.length).toBeGreaterThan(0);
      expect(hello.every((r) => r.workflowName === 'hello')).toBe(true);
      const failed = json<Run[]>(failedR);
      expect(failed.map((r) => r.workflowName)).toEqual(['boom']);
      expect(json<Run[]>(oneR)).toEqual([all[0]]);
      const lines = boomR.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]!.split('\t').slice(0, 5)).toEqual([failed[0]!.id, 'boom', 'failed', 'user', '1/1 (1 failed)']);

      const fanRun = json<Run[]>(fanR)[0]!;
      const [shownR, treeR, limitedR, boomTreeR] = await Promise.all([
        cli('show', fanRun.id, '--json'),
        cli('show', fanRun.id),
        cli('show', fanRun.id, '--tasks', '1'),
        cli('show', failed[0]!.id),
      ]);
      const shown = json<{ run: Run; tasks: Task[] }>(shownR);
      expect(shown.run.id).toBe(fanRun.id);
      expect(shown.tasks.map((t) => [t.stepName, t.taskIndex, t.status, t.attempt])).toEqual([
        ['shard', 0, 'success', 1],
        ['shard', 1, 'success', 1],
        ['shard', 2, 'success', 1],
        ['sum', 0, 'success', 1],
      ]);
      expect(shown.tasks[3]!.output).toBe(3);
      const tree = treeR.stdout;
      expect(tree).toMatch(/^fan .* success {2}4\/4 tasks/);
      expect(tree).toMatch(/├─ shard {2}3 success\n│ {2}├─ #0 {2}success {2}attempt 1\/3/);
      expect(tree).toMatch(/└─ sum {2}1 success {2}after shard\n {3}└─ #0 {2}success/);
      const limited = limitedR.stdout;
      expect(limited).toMatch(/… 2 more \(--tasks 3 to list them\)/);
      const boomTree = boomTreeR.stdout;
      expect(boomTree).toMatch(/#0 {2}failed {2}attempt 1\/1/);
      expect(boomTree).toMatch(/Error: kaboom/);

      const errors = await Promise.all([
        cli('show', 'no-such-run'),
        cli('runs', '--workflow', 'nope'),
        cli('runs', '--status', 'weird'),
        cli('runs', '--limit', '0'),
      ]);
      oneErrorLine(errors[0]!, 1, /run not found: no-such-run/);
      oneErrorLine(errors[1]!, 1, /workflow not found: nope/);
      oneErrorLine(errors[2]!, 2, /--status.*weird/);
      oneErrorLine(errors[3]!, 2, /--limit/);
    });

    it('logs lists every line in order, filters by type, and prints the error with its stack', async () => {
      await startWorker();
      const run = await worker!.trigger('hello', { inputs: { name: 'Eve', n: 1 } });
      await worker!.waitForRun(run.id);
      // Logs are written in batches: wait for the last one before reading them through the CLI.
      await expect.poll(async () => (await store!.listLogs(run.id)).items.length).toBe(7);
      const boom = (await store!.listRuns({ status: 'failed' })).items[0]!;
      const [logsR, someR, textR, errorR, badType, noRun] = await Promise.all([
        cli('logs', run.id, '--json'),
        cli('logs', run.id, '--type', 'warn,success', '--json'),
        cli('logs', run.id),
        cli('logs', boom.id, '--type', 'error'),
        cli('logs', run.id, '--type', 'shout'),
        cli('logs', 'no-such-run'),
      ]);
      const logs = json<Log[]>(logsR);
      expect(logs.map((l) => l.type)).toEqual(['log', 'info', 'warn', 'danger', 'success', 'json', 'markdown']);
      expect(logs[1]!.content).toBe('hello Eve');
      expect(json<Log[]>(someR).map((l) => l.content)).toEqual(['careful', 'all good']);
      const text = textR.stdout.trim().split('\n');
      expect(text[1]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z info {5}hello Eve$/);
      // The error with its stack, the stack's lines indented beneath it.
      expect(errorR.stdout).toMatch(/error {4}Error: kaboom\n\s+at /);
      oneErrorLine(badType, 2, /unknown log type shout/);
      oneErrorLine(noRun, 1, /run not found/);
    });

    it('logs --follow prints lines of a running run as they come, and ends when the run does', async () => {
      await startWorker();
      const run = await worker!.trigger('slow');
      await expect.poll(async () => (await store!.listLogs(run.id)).items.length, { timeout: 10_000 }).toBe(1);
      const follow = start([...s.args, 'logs', run.id, '--follow', '--json', '--interval', '100'], { env: s.env ?? {} });
      await follow.waitFor((out) => out.includes('first line'));
      expect(follow.child.exitCode).toBeNull();
      expect((await store!.getRun(run.id)).status).toBe('running');
      release();
      const result = await follow.done;
      expect(result.code).toBe(0);
      const lines = result.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Log);
      expect(lines.map((l) => [l.type, l.content])).toEqual([
        ['info', 'first line'],
        ['success', 'second line'],
      ]);
      expect((await store!.getRun(run.id)).status).toBe('success');
    });

    it('limits lists each key with what is used and what waits; task shows the limits a task counts against', async () => {
      await startWorker();
      // Paused: its tasks stay pending, waiting under their key, while the worker runs everything else.
      const wf = await store!.createWorkflow({
        name: 'limited',
        status: 'paused',
        steps: [
          {
            name: 's',
            taskCount: 3,
            concurrency: { key: 'host:{inputs.host}', limit: 2 },
            rateLimit: { key: 'api', limit: 5, periodMs: 60_000 },
          },
        ],
      });
      const { run } = await store!.createRun({ workflowId: wf.id, inputs: { host: 'a.example' } });
      const task = (await store!.listTasks({ runId: run.id })).items[0]!;
      const [jsonR, textR, taskR] = await Promise.all([cli('limits', '--json'), cli('limits'), cli('task', task.id)]);
      expect(json(jsonR)).toEqual(await store!.listLimits());
      expect(
        textR.stdout
          .trim()
          .split('\n')
          .map((l) => l.split('\t')),
      ).toEqual([
        ['concurrency', 'host:a.example', '0', '2', '3', 'room'],
        ['rate', 'api', '0', '5 per 60 s', '3', 'room'],
      ]);
      expect(taskR.stdout).toMatch(/limit +concurrency key host:a\.example, 2 at once/);
      expect(taskR.stdout).toMatch(/limit +rate key api, 5 per 60 s/);
    });

    it('task by id and by execution name', async () => {
      await startWorker();
      const fanRun = (await store!.listRuns({ workflowId: (await store!.findWorkflow('fan'))!.id })).items[0]!;
      const tasks = (await store!.listTasks({ runId: fanRun.id })).items;
      const name = `exec-${fanRun.id}-2`;
      const [byIdR, byNameR, byFlagR, textR, none, idAsName] = await Promise.all([
        cli('task', tasks[1]!.id, '--json'),
        cli('task', name, '--json'),
        cli('task', '--execution', name, '--json'),
        cli('task', tasks[2]!.id),
        cli('task', 'exec-none'),
        cli('task', '--execution', tasks[0]!.id),
      ]);
      expect(json<Task>(byIdR)).toMatchObject({ id: tasks[1]!.id, stepName: 'shard', taskIndex: 1, status: 'success', output: 1 });
      expect(json<Task>(byNameR).id).toBe(tasks[2]!.id);
      expect(json<Task>(byFlagR).id).toBe(tasks[2]!.id);
      expect(textR.stdout).toMatch(new RegExp(`execution +${name}`));
      expect(textR.stdout).toMatch(/step +shard #2 of 3/);
      oneErrorLine(none, 1, /not found: exec-none/);
      oneErrorLine(idAsName, 1, /task with execution name not found/);
    });

    it('retry runs the failed tasks of a finished run again; --wait exits by the outcome', async () => {
      await startWorker();
      const failed = await cli('trigger', 'flaky', '--wait', '--json');
      expect(failed.code).toBe(3);
      const run = JSON.parse(failed.stdout) as Run;
      expect(run.status).toBe('failed');
      expect((await store!.listTasks({ runId: run.id })).items.map((t) => t.status)).toEqual(['failed', 'cancelled']);
      flakyFixed = true;
      const retried = json<Run>(await cli('retry', run.id, '--wait', '--json'));
      expect(retried).toMatchObject({ id: run.id, status: 'success', error: null });
      const tasks = (await store!.listTasks({ runId: run.id })).items;
      expect(tasks.map((t) => [t.stepName, t.status, t.output])).toEqual([
        ['first', 'success', 'fixed'],
        ['then', 'success', ['fixed']],
      ]);
      const [again, unknown] = await Promise.all([cli('retry', run.id), cli('retry', 'no-such-run')]);
      oneErrorLine(again, 1, /cannot be retried/);
      oneErrorLine(unknown, 1, /run not found/);
      // Without --wait: the run is active again at once, and a failing retry exits 3 with --wait.
      flakyFixed = false;
      const second = await worker!.waitForRun((await worker!.trigger('flaky')).id);
      const plain = await cli('retry', second.id);
      expect(plain.code).toBe(0);
      expect(plain.stdout).toMatch(new RegExp(`^${second.id} (pending|running|failed): 2 tasks to run again`));
      expect((await worker!.waitForRun(second.id)).status).toBe('failed');
      const failedAgain = await cli('retry', second.id, '--wait');
      expect(failedAgain.code).toBe(3);
      expect(failedAgain.stdout).toMatch(/ failed in .*not yet/);
    });

    it('cancel ends a run that has not finished; a finished run is a conflict', async () => {
      const b = await startWorker();
      await b.pauseWorkflow('parked');
      const run = await b.trigger('parked');
      const cancelled = json<Run>(await cli('cancel', run.id, '--reason', 'not today', '--json'));
      expect(cancelled).toMatchObject({ id: run.id, status: 'cancelled', error: 'not today' });
      expect((await store!.listTasks({ runId: run.id })).items.map((t) => t.status)).toEqual(['cancelled']);
      oneErrorLine(await cli('cancel', run.id), 1, /already finished as cancelled/);
      oneErrorLine(await cli('cancel', 'no-such-run'), 1, /run not found/);
      await b.resumeWorkflow('parked');
    });
  });
}
