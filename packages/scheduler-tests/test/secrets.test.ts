import { expect } from 'vitest';
import { REDACTED } from '@baton/core';
import { allTasks, eachStore, testBaton } from '../src/index.js';

// Secret values of every JSON type; each leaf is distinctive so that a leak is visible in any text.
const SECRETS = {
  'db.credentials': { user: 'svc-ledger-admin', password: 'hunter2-hunter2', port: 54329, tls: { ca: 'CA-BLOB-7f3a9c' } },
  'api.pin': 86753091,
  'feature.hidden': ['alpha-key-1f2e', 'beta-key-3d4c', 424242],
  'legacy.token': 'sk-plain-string-secret',
};
const LEAVES = [
  'svc-ledger-admin',
  'hunter2-hunter2',
  '54329',
  'CA-BLOB-7f3a9c',
  '86753091',
  'alpha-key-1f2e',
  'beta-key-3d4c',
  '424242',
  'sk-plain-string-secret',
];

function leaks(text: string): string[] {
  return LEAVES.filter((leaf) => text.includes(leaf));
}

eachStore('secret config values of every JSON type', ({ it, tempStore }) => {
  it('are redacted, leaf by leaf, from logs of every type, task and run errors, tool audit records and events', async () => {
    const { store } = await tempStore();
    for (const [key, value] of Object.entries(SECRETS)) await store.setConfig({ key, value, isSecret: true });
    const baton = testBaton(store);
    const events: unknown[] = [];
    baton.on('task:finished', (e) => events.push(e));
    baton.on('task:retrying', (e) => events.push(e));
    baton.on('run:finished', (e) => events.push(e));
    await baton.defineWorkflow(
      { name: 'leaky', retry: { maxAttempts: 2, initialDelayMs: 10 }, steps: [{ name: 'use' }] },
      {
        use: async (ctx) => {
          const creds = await ctx.config('db.credentials');
          // api.pin and feature.hidden are never read in the task: loaded at start, they are redacted all the same.
          const all = { creds, pin: SECRETS['api.pin'], hidden: SECRETS['feature.hidden'], token: SECRETS['legacy.token'] };
          for (const type of ['log', 'json', 'markdown', 'error', 'info', 'warn', 'danger', 'success'] as const) ctx[type](all);
          ctx.info(`connecting as ${JSON.stringify(creds)} pin=${all.pin}`);
          const echoed = await ctx.tool('echo', all, async () => all);
          expect(echoed).toEqual(all); // the task itself still sees the real values
          await ctx
            .tool('boom', { port: 54329, ok: true }, async () => {
              throw new Error(`cannot reach ${JSON.stringify(all)}`);
            })
            .catch(() => {});
          throw new Error(`failed with ${JSON.stringify(all)} and pin ${all.pin}`);
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('leaky');
    const finished = await baton.waitForRun(run.id);
    expect(finished.status).toBe('failed');

    const logs = (await store.listLogs(run.id, { limit: 1000 })).items;
    expect(new Set(logs.map((l) => l.type)).size).toBe(8);
    const calls = (await store.listToolExecutions({ runId: run.id })).items;
    expect(calls.map((c) => c.toolName)).toEqual(['echo', 'boom', 'echo', 'boom']);
    const tasks = await allTasks(store, run.id);
    const recorded = JSON.stringify({ logs, calls, tasks, run: finished, events });
    expect(leaks(recorded)).toEqual([]);
    expect(recorded).toContain(REDACTED);
    // Numbers in structured records are replaced whole, not left as digits.
    expect((calls[0]!.arguments as { pin: unknown }).pin).toBe(REDACTED);
    expect((calls[1]!.arguments as { port: unknown; ok: unknown }).port).toBe(REDACTED);
    expect(tasks[0]!.error).toContain('failed with');
    expect(finished.error).toContain(REDACTED);
  });
});
