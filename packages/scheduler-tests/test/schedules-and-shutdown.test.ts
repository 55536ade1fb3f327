import { expect } from 'vitest';
import { DefinitionError, ValidationError, createBaton } from '@baton/core';
import { allTasks, eachStore, sleep, testBaton, until } from '../src/index.js';

eachStore('scheduler: schedules, shutdown, definitions, audit', ({ it, tempStore }) => {
  it('two schedulers on one store with the same cron schedule create one run per fire', async () => {
    const { store } = await tempStore();
    const def = {
      name: 'ticker',
      steps: [{ name: 's' }],
      schedules: [{ name: 'every-second', cron: '* * * * * *', inputs: { from: 'cron' } }],
    };
    const fired: string[] = [];
    const a = testBaton(store, { workerId: 'a' });
    const b = testBaton(store, { workerId: 'b' });
    for (const baton of [a, b]) {
      await baton.defineWorkflow(def, { s: async () => 'tick' });
      baton.on('schedule:fired', (e) => fired.push(`${e.at.toISOString()}:${e.created}`));
    }
    await Promise.all([a.start(), b.start()]);
    await sleep(3300);
    await Promise.all([a.stop(), b.stop()]);
    const runs = (await store.listRuns({ limit: 100 })).items;
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((r) => r.triggeredBy === 'schedule' && r.inputs.from === 'cron')).toBe(true);
    const keys = runs.map((r) => r.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    // Both schedulers saw each fire; exactly one of them created its run.
    const created = fired.filter((f) => f.endsWith(':true')).length;
    expect(created).toBe(runs.length);
    expect(fired.length).toBeGreaterThan(created);
  });

  it('stop() mid-run lets short tasks finish, aborts the rest after the grace period, and leaves no task running', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { concurrency: 4, shutdownGraceMs: 300 });
    await baton.defineWorkflow(
      { name: 'mixed', steps: [{ name: 's', taskCount: 8 }] },
      {
        s: async (ctx) => {
          if (ctx.taskIndex % 2 === 0) return 'quick';
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
          throw ctx.signal.reason;
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('mixed');
    await until(async () => (await store.listTasks({ runId: run.id, status: 'running' })).items.length > 0, 5000, 'running tasks');
    await baton.stop();
    const tasks = await allTasks(store, run.id);
    expect(tasks.some((t) => t.status === 'running' || t.status === 'dispatched')).toBe(false);
    // Released tasks are pending again with their attempt not charged.
    const pending = tasks.filter((t) => t.status === 'pending');
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((t) => t.attempt === 0 && t.leaseId === null)).toBe(true);
    const sessions = await store.listSessions();
    expect(sessions.find((s) => s.id === baton.workerId)?.isActive).toBe(false);
  });

  it('rejects invalid definitions with typed errors naming the problem', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    const s = async () => 1;
    const cases: [object, RegExp][] = [
      [
        {
          name: 'cyc',
          steps: [
            { name: 'a', dependsOn: ['b'] },
            { name: 'b', dependsOn: ['a'] },
          ],
        },
        /dependency cycle: a -> b -> a|b -> a -> b/,
      ],
      [{ name: 'missing', steps: [{ name: 'a', dependsOn: ['ghost'] }] }, /unknown step "ghost"/],
      [{ name: 'exec', steps: [{ name: 'a', executor: 'teleport' }] }, /unknown executor "teleport"/],
      [{ name: 'cron', steps: [{ name: 'a' }], schedules: [{ cron: 'every tuesday' }] }, /invalid cron "every tuesday"/],
      [{ name: 'tz', steps: [{ name: 'a' }], schedules: [{ cron: '* * * * *', timezone: 'Mars/Olympus' }] }, /unknown time zone/],
      [{ name: 'nohandler', steps: [{ name: 'a' }, { name: 'b' }] }, /step "b" runs in-process but has no handler/],
    ];
    for (const [def, message] of cases) {
      const error = await baton.defineWorkflow(def as never, { a: s }).catch((e) => e);
      expect(error, JSON.stringify(def)).toBeInstanceOf(DefinitionError);
      expect(error.message).toMatch(message);
    }
    const negative = await baton.defineWorkflow({ name: 'neg', timeoutMs: -5, steps: [{ name: 'a' }] }, { a: s }).catch((e) => e);
    expect(negative).toBeInstanceOf(ValidationError);
    expect(negative.field).toBe('timeoutMs');
    expect(() => createBaton({ store, concurrency: 0 })).toThrow(/concurrency: must be at least 1/);
    expect((await store.listWorkflows()).items).toHaveLength(0);
  });

  it('audits tool calls as tool executions and redacts secrets from them and from logs', async () => {
    const { store } = await tempStore();
    await store.setConfig({ key: 'api.token', value: 'sk-very-secret-token', isSecret: true });
    const baton = testBaton(store);
    await baton.defineWorkflow(
      { name: 'agent', retry: { maxAttempts: 1 }, steps: [{ name: 'call' }] },
      {
        call: async (ctx) => {
          const token = await ctx.config('api.token');
          ctx.log(`using token ${token}`);
          const sum = await ctx.tool('add', { a: 2, b: 3, auth: token }, async () => 5);
          await ctx
            .tool('sleepy', {}, (signal) => new Promise<void>((r) => signal.addEventListener('abort', () => r())), { timeoutMs: 50 })
            .catch(() => {});
          await ctx
            .tool('broken', { x: 1 }, async () => {
              throw new Error(`failed with ${token}`);
            })
            .catch(() => {});
          return sum;
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('agent');
    expect((await baton.waitForRun(run.id)).status).toBe('success');
    const calls = (await store.listToolExecutions({ runId: run.id })).items;
    expect(calls.map((c) => [c.toolName, c.status])).toEqual([
      ['add', 'completed'],
      ['sleepy', 'timeout'],
      ['broken', 'failed'],
    ]);
    expect(calls[0]!.output).toBe(5);
    expect(calls[0]!.durationMs).toBeGreaterThanOrEqual(0);
    const everything = JSON.stringify({ calls, logs: (await store.listLogs(run.id)).items });
    expect(everything).not.toContain('sk-very-secret-token');
    expect(everything).toContain('[redacted]');
  });

  it('registers each scheduler as an active worker session while it runs', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { workerId: 'worker-1' });
    await baton.start();
    const session = (await store.listSessions({ activeOnly: true })).find((s) => s.id === 'worker-1');
    expect(session).toMatchObject({ connectionType: 'worker', isActive: true });
  });

  it("expires dead workers' sessions but never a host's own sessions, which keep their own time", async () => {
    const { store } = await tempStore();
    await store.registerSession({ id: 'browser-tab', clientId: 'host', connectionType: 'websocket' });
    await store.registerSession({ id: 'dead-worker', clientId: 'gone', connectionType: 'worker' });
    const baton = testBaton(store, { workerId: 'live-worker', leaseMs: 200, heartbeatMs: 50 });
    await baton.start();
    await until(
      async () => !(await store.listSessions({ activeOnly: true })).some((s) => s.id === 'dead-worker'),
      10_000,
      'the dead worker to expire',
    );
    await sleep(300); // well past 3 × leaseMs since the websocket session's last heartbeat
    expect((await store.listSessions({ activeOnly: true })).map((s) => s.id).sort()).toEqual(['browser-tab', 'live-worker']);
  });

  it('redefining a workflow replaces its settings but keeps its status', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    await baton.defineWorkflow({ name: 'evolving', timeoutMs: 1000, steps: [{ name: 'a' }] }, { a: async () => 1 });
    await baton.pauseWorkflow('evolving');
    const again = await baton.defineWorkflow(
      { name: 'evolving', steps: [{ name: 'a' }, { name: 'b' }] },
      { a: async () => 1, b: async () => 2 },
    );
    expect(again.timeoutMs).toBeUndefined();
    expect(again.steps.map((s) => s.name)).toEqual(['a', 'b']);
    expect(again.status).toBe('paused');
  });
});
