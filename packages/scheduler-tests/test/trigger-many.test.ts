import { ValidationError } from '@baton/core';
import { expect } from 'vitest';
import { eachStore, testBaton } from '../src/index.js';

eachStore('scheduler: triggerMany', ({ it, tempStore }) => {
  it('creates one run per item in one call, each with its own inputs and key, and runs them all', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store, { concurrency: 20 });
    const seen: number[] = [];
    await baton.defineWorkflow(
      { name: 'job', steps: [{ name: 'only' }] },
      {
        only: async (ctx) => {
          seen.push(ctx.inputs.n as number);
          return (ctx.inputs.n as number) * 10;
        },
      },
    );
    const created: string[] = [];
    baton.on('run:created', (run) => created.push(run.id));
    await baton.start();
    const runs = await baton.triggerMany('job', [
      ...Array.from({ length: 200 }, (_, n) => ({ inputs: { n } })),
      { inputs: { n: 200 }, idempotencyKey: 'once' },
      { inputs: { n: 201 }, idempotencyKey: 'once' },
    ]);
    expect(runs).toHaveLength(202);
    expect(runs[201]!.id).toBe(runs[200]!.id);
    expect(created).toEqual(runs.slice(0, 201).map((r) => r.id));
    for (const run of runs) expect((await baton.waitForRun(run.id)).status).toBe('success');
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 201 }, (_, n) => n));
    expect((await store.getStepOutputs(runs[7]!.id, ['only'])).only).toEqual([70]);
    // The key is taken: a later call answers the same run.
    expect((await baton.triggerMany('job', [{ idempotencyKey: 'once' }]))[0]!.id).toBe(runs[200]!.id);
  });

  it('names the bad item and creates nothing when one item is rejected', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    await baton.defineWorkflow({ name: 'job', steps: [{ name: 'only' }] }, { only: async () => null });
    const error = await baton
      .triggerMany('job', [{ inputs: { ok: 1 } }, { inputs: { ok: 2 } }, { priority: 1.5 }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('items.2.priority');
    expect((error as Error).message).toMatch(/items\.2\.priority/);
    const notObject = await baton.triggerMany('job', [{}, null as never]).catch((e: unknown) => e);
    expect((notObject as ValidationError).field).toBe('items.1');
    // The per-call bound (the store's guard has it too; triggerMany checks its items itself).
    const tooMany = await baton
      .triggerMany(
        'job',
        Array.from({ length: 100_001 }, () => ({})),
      )
      .catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(ValidationError);
    expect((tooMany as ValidationError).field).toBe('items');
    expect((tooMany as Error).message).toMatch(/at most 100000 runs per call/);
    // An item the store's guard would refuse is refused here too, by index: inputs must be a JSON object.
    const badInputs = await baton.triggerMany('job', [{}, { inputs: [1] as never }]).catch((e: unknown) => e);
    expect((badInputs as ValidationError).field).toBe('items.1.inputs');
    // A run whose limit key names an input it lacks is found while planning, in the store: named by index too.
    await baton.defineWorkflow(
      { name: 'keyed', steps: [{ name: 's', concurrency: { key: 'tenant:{inputs.tenant}', limit: 1 } }] },
      { s: async () => null },
    );
    const noKey = await baton.triggerMany('keyed', [{ inputs: { tenant: 'a' } }, {}]).catch((e: unknown) => e);
    expect(noKey).toBeInstanceOf(ValidationError);
    expect((noKey as ValidationError).field).toBe('items.1.inputs.tenant');
    expect((await store.listRuns({})).items).toEqual([]);
  });
});
