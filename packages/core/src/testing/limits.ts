import { expect } from 'vitest';
import { DefinitionError, ValidationError } from '../errors.js';
import type { ClaimedTask, Store } from '../store.js';
import { claimAll, defineWorkflow, expectStartedByClaim, leaseOf, sleep, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

const claim = (store: Store, limit = 50, leaseMs = 60_000, workerId = 'w') => store.claimTasks({ workerId, limit, leaseMs });
const succeed = (store: Store, claimed: ClaimedTask[]) =>
  store.finishTasks(claimed.map((c) => ({ ...leaseOf(c), status: 'success' as const, output: null })));
const countBy = (claimed: ClaimedTask[], key: (c: ClaimedTask) => string | undefined) => {
  const out: { [key: string]: number } = {};
  for (const c of claimed) {
    const k = key(c);
    if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
};

/** Cluster-wide concurrency and rate limits per key, enforced by the store's claim. */
export function limitCases(factory: StoreFactory): void {
  suite(factory, 'limits', (test, { open, again }) => {
    test('keys are evaluated when the run is planned, from its inputs and each task params, and stored with the task', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, {
        concurrency: { key: 'llm:{inputs.provider}', limit: 3 },
        steps: [
          { name: 'ask' },
          {
            name: 'fetch',
            paramsList: [{ url: 'https://a.example/x' }, { url: 'https://b.example:8080/y' }],
            concurrency: { key: 'host:{params.url|host}', limit: 1 },
            rateLimit: { key: 'fixed', limit: 5, periodMs: 1000 },
          },
          { name: 'free', concurrency: 4 },
        ],
      });
      const { run } = await store.createRun({ workflowId: wf.id, inputs: { provider: 'openai' } });
      const tasks = (await store.listTasks({ runId: run.id })).items;
      expect(tasks.map((t) => [t.stepName, t.concurrencyLimit, t.rateLimit])).toEqual([
        ['ask', { key: 'llm:openai', limit: 3 }, null],
        ['fetch', { key: 'host:a.example', limit: 1 }, { key: 'fixed', limit: 5, periodMs: 1000 }],
        ['fetch', { key: 'host:b.example:8080', limit: 1 }, { key: 'fixed', limit: 5, periodMs: 1000 }],
        // A number stays a per-process limit; the workflow's keyed limit applies to the step.
        ['free', { key: 'llm:openai', limit: 3 }, null],
      ]);
      expect((await store.getWorkflow(wf.id)).concurrency).toEqual({ key: 'llm:{inputs.provider}', limit: 3 });
    });

    test('a key naming a missing input is a ValidationError and nothing is stored; a bad template is a DefinitionError', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, {
        steps: [{ name: 's', rateLimit: { key: 'p:{inputs.provider}', limit: 1, periodMs: 1000 } }],
      });
      const error = await store.createRun({ workflowId: wf.id, inputs: { other: 1 } }).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toContain('inputs.provider');
      expect((await store.listRuns({ workflowId: wf.id })).items).toEqual([]);
      await expect(defineWorkflow(store, { steps: [{ name: 's', concurrency: { key: '{env.HOME}', limit: 1 } }] })).rejects.toBeInstanceOf(
        DefinitionError,
      );
      await expect(
        defineWorkflow(store, { steps: [{ name: 's', concurrency: { key: '{params.u|upper}', limit: 1 } }] }),
      ).rejects.toBeInstanceOf(DefinitionError);
      await expect(defineWorkflow(store, { steps: [{ name: 's', concurrency: { key: 'k', limit: 0 } }] })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });

    test('createRuns plans each run of a limited workflow from its own inputs; runs of an unlimited workflow in the same batch carry no key', async () => {
      const store = await open();
      const limited = await defineWorkflow(store, { steps: [{ name: 's', concurrency: { key: 'llm:{inputs.provider}', limit: 1 } }] });
      const free = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 2 }] });
      const created = await store.createRuns([
        { workflowId: limited.id, inputs: { provider: 'a' } },
        { workflowId: free.id },
        { workflowId: limited.id, inputs: { provider: 'b' } },
        { workflowId: limited.id, inputs: { provider: 'a' } },
      ]);
      const keys = await Promise.all(
        created.map(async ({ run }) => (await store.listTasks({ runId: run.id })).items.map((t) => t.concurrencyLimit?.key ?? null)),
      );
      expect(keys).toEqual([['llm:a'], [null, null], ['llm:b'], ['llm:a']]);
      // The keys hold across the batch: one task per provider, then the free ones.
      const claimed = await claim(store);
      expect(countBy(claimed, (c) => c.task.concurrencyLimit?.key ?? 'none')).toEqual({ 'llm:a': 1, 'llm:b': 1, none: 2 });
    });

    test('a limited claim with running: true leases running, started now, and starts the runs, as the plain claim does', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 3, concurrency: { key: 'k', limit: 2 } }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      const before = Date.now();
      const claimed = await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 60_000, running: true });
      expect(claimed).toHaveLength(2);
      await expectStartedByClaim(store, claimed, run.id, before);
      // Running tasks hold their slots like dispatched ones.
      expect(await claim(store)).toEqual([]);
      await succeed(store, claimed.slice(0, 1));
      expect(await claim(store)).toHaveLength(1);
    });

    test('a key at its limit is not claimed; other keys and unlimited tasks are; an ending frees the slot', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, {
        steps: [
          { name: 'a', paramsList: [1, 2, 3, 4, 5].map((i) => ({ i, k: 'x' })), concurrency: { key: 'k:{params.k}', limit: 2 } },
          { name: 'b', paramsList: [1, 2, 3].map((i) => ({ i, k: 'y' })), concurrency: { key: 'k:{params.k}', limit: 2 } },
          { name: 'c', taskCount: 3 },
        ],
      });
      await store.createRun({ workflowId: wf.id });
      const first = await claim(store);
      expect(countBy(first, (c) => c.task.concurrencyLimit?.key ?? 'none')).toEqual({ 'k:x': 2, 'k:y': 2, none: 3 });
      // Full keys: nothing more, however often asked (no claim-then-release).
      expect(await claim(store)).toEqual([]);
      expect(await claim(store)).toEqual([]);
      const x = first.filter((c) => c.task.concurrencyLimit?.key === 'k:x');
      await succeed(store, x.slice(0, 1));
      const next = await claim(store);
      expect(next.map((c) => c.task.concurrencyLimit?.key)).toEqual(['k:x']);
      expect(next[0]!.task.attempt).toBe(1);
      // A failure with a retry frees the slot too; the retried task waits for a slot like any other.
      await store.finishTasks([{ ...leaseOf(x[1]!), status: 'failed', error: 'boom', retryAt: new Date(Date.now() - 1) }]);
      expect((await claim(store)).map((c) => c.task.concurrencyLimit?.key)).toEqual(['k:x']);
      expect(await claim(store)).toEqual([]);
    });

    test('the limit counts across workflows sharing a key and respects the claim limit and workflow filters', async () => {
      const store = await open();
      const one = await defineWorkflow(store, { concurrency: { key: 'shared', limit: 3 }, steps: [{ name: 's', taskCount: 4 }] });
      const two = await defineWorkflow(store, { concurrency: { key: 'shared', limit: 3 }, steps: [{ name: 's', taskCount: 4 }] });
      await store.createRun({ workflowId: one.id });
      await store.createRun({ workflowId: two.id });
      expect(await claim(store, 1)).toHaveLength(1);
      expect(await store.claimTasks({ workerId: 'w', limit: 10, leaseMs: 60_000, workflowIds: [two.id] })).toHaveLength(2);
      expect(await claim(store)).toEqual([]);
      await store.updateWorkflow(two.id, { status: 'paused' });
      const limits = await store.listLimits();
      expect(limits).toEqual([{ kind: 'concurrency', key: 'shared', limit: 3, periodMs: null, used: 3, waiting: 5 }]);
    });

    test('several claimers on two handles never exceed a key limit', async () => {
      const store = await open();
      const other = await again(store);
      const wf = await defineWorkflow(store, {
        steps: [
          {
            name: 's',
            paramsList: Array.from({ length: 100 }, (_, i) => ({ k: `k${i % 10}` })),
            concurrency: { key: '{params.k}', limit: 2 },
          },
        ],
      });
      await store.createRun({ workflowId: wf.id });
      const batches = await Promise.all(Array.from({ length: 12 }, (_, i) => claim(i % 2 ? other : store, 7, 60_000, `w${i}`)));
      const all = batches.flat();
      expect(new Set(all.map((c) => c.task.id)).size).toBe(all.length);
      const perKey = countBy(all, (c) => c.task.concurrencyLimit!.key);
      expect(Math.max(...Object.values(perKey))).toBeLessThanOrEqual(2);
      // Claiming on until nothing moves fills every key exactly to its limit.
      const rest = await claimAll(other);
      expect(Object.values(countBy([...all, ...rest], (c) => c.task.concurrencyLimit!.key))).toEqual(Array(10).fill(2));
    });

    test('an expired lease frees its slot at once, before recovery; release and recovery free it too', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 4, concurrency: { key: 'exp', limit: 1 } }] });
      await store.createRun({ workflowId: wf.id });
      // Long enough that the next claim surely runs before it expires, even on a loaded machine.
      const [held] = await claim(store, 10, 1000);
      expect(held).toBeDefined();
      expect(await claim(store)).toEqual([]);
      await sleep(held!.task.leaseExpiresAt!.getTime() - Date.now() + 30);
      const [taken] = await claim(store, 10, 60_000);
      expect(taken).toBeDefined();
      expect(taken!.task.id).not.toBe(held!.task.id);
      expect(await claim(store)).toEqual([]);
      expect(await store.releaseTasks([leaseOf(taken!)])).toBe(1);
      const [again1] = await claim(store, 10, 30);
      expect(again1).toBeDefined();
      await sleep(60);
      // Recovery requeues both expired tasks; the slot stays free for one claim.
      const recovered = await store.recoverExpiredLeases();
      expect(recovered.map((r) => r.status)).toEqual(['pending', 'pending']);
      expect(await claim(store)).toHaveLength(1);
      expect(await claim(store)).toEqual([]);
    });

    test('a rate limit allows N claims per sliding window, kept across handles (restarts)', async () => {
      const store = await open();
      const periodMs = 400;
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 7, rateLimit: { key: 'api', limit: 3, periodMs } }] });
      await store.createRun({ workflowId: wf.id });
      const start = Date.now();
      const first = await claim(store);
      // Every claim was recorded by now: the window ends at most a period later.
      const claimedBy = Date.now();
      expect(first).toHaveLength(3);
      // Ending the tasks does not give the window back: it counts claims, not running tasks.
      await succeed(store, first);
      const reopened = await again(store);
      if (Date.now() - start < periodMs - 50) expect(await claim(reopened)).toEqual([]);
      const [state] = await reopened.listLimits();
      expect(state).toMatchObject({ kind: 'rate', key: 'api', limit: 3, periodMs, waiting: 4 });
      if (Date.now() - start < periodMs - 50) expect(state!.used).toBe(3);
      await sleep(claimedBy + periodMs + 10 - Date.now());
      const second = await claim(reopened);
      const secondBy = Date.now();
      expect(second).toHaveLength(3);
      await sleep(secondBy + periodMs + 10 - Date.now());
      expect(await claim(store)).toHaveLength(1);
    });

    test('a task under both limits is claimed only when both keys have room', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, {
        steps: [{ name: 's', taskCount: 6, concurrency: { key: 'c', limit: 3 }, rateLimit: { key: 'r', limit: 2, periodMs: 60_000 } }],
      });
      await store.createRun({ workflowId: wf.id });
      const first = await claim(store);
      expect(first).toHaveLength(2);
      await succeed(store, first);
      expect(await claim(store)).toEqual([]);
      const limits = await store.listLimits();
      expect(limits.map((l) => [l.kind, l.key, l.used, l.waiting])).toEqual([
        ['concurrency', 'c', 0, 4],
        ['rate', 'r', 2, 4],
      ]);
    });
  });
}
