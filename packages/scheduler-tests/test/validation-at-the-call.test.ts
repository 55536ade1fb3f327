import { expect } from 'vitest';
import { ValidationError, createBaton, type Executor } from '@baton/core';
import { eachStore, quiet, testBaton } from '../src/index.js';

const rejects = async (fn: () => unknown, field: string, message?: RegExp) => {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a ValidationError on ${field}`).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).field).toBe(field);
  if (message) expect((error as Error).message).toMatch(message);
};

eachStore('bad input fails at the call, naming what was wrong', ({ it, tempStore }) => {
  it('trigger: unknown keys, wrong types and inputs that are not JSON are refused, naming the key; no run is created', async () => {
    const { store } = await tempStore();
    const baton = testBaton(store);
    await baton.defineWorkflow({ name: 'wf', steps: [{ name: 's' }] }, { s: async () => 1 });
    await rejects(() => baton.trigger('wf', { input: { a: 1 } } as never), 'input', /input: is not a known field/);
    await rejects(() => baton.trigger('wf', 'api' as never), '', /must be an options object/);
    await rejects(() => baton.trigger('wf', { inputs: 'x' } as never), 'inputs');
    await rejects(() => baton.trigger('wf', { triggeredBy: 'robot' } as never), 'triggeredBy');
    await rejects(() => baton.trigger('wf', { runAt: '2030-01-01' } as never), 'runAt');
    await rejects(() => baton.trigger('wf', { idempotencyKey: 7 } as never), 'idempotencyKey');
    await rejects(() => baton.trigger('wf', { inputs: { report: { when: new Date() } } } as never), 'inputs.report.when', /Date/);
    await rejects(() => baton.trigger('wf', { inputs: { n: Number.NaN } }), 'inputs.n', /NaN/);
    await rejects(() => baton.trigger('wf', { metadata: { list: [1, undefined] } } as never), 'metadata.list.1', /undefined/);
    await rejects(() => baton.trigger('' as never), '', /workflow name/);
    await rejects(
      () => baton.triggerMany('wf', [{ inputs: { a: 1 } }, { input: { a: 2 } } as never]),
      'items.1.input',
      /not a known field/,
    );
    await rejects(() => baton.triggerMany('wf', [{ inputs: { when: new Date() } } as never]), 'items.0.inputs.when', /Date/);
    expect((await store.listRuns()).items).toEqual([]);
    expect((await baton.trigger('wf', { inputs: { a: 1 }, triggeredBy: 'manual' })).triggeredBy).toBe('manual');
  });

  it('createBaton: a missing store, an executor without execute, an unknown option', async () => {
    const { store } = await tempStore();
    await rejects(() => createBaton({} as never), 'store', /a Store such as openSqliteStore/);
    await rejects(() => createBaton(undefined as never), '');
    await rejects(() => createBaton({ store: { kind: 'fake' } } as never), 'store');
    await rejects(
      () => createBaton({ store, logger: quiet, executors: [{ name: 'remote' } as Executor] }),
      'executors.0.execute',
      /must be a function/,
    );
    await rejects(
      () => createBaton({ store, logger: quiet, executors: [{ name: 'bad name!', execute: async () => 1 }] }),
      'executors.0.name',
    );
    await rejects(() => createBaton({ store, logger: quiet, concurency: 4 } as never), 'concurency', /not a known field/);
    await rejects(() => createBaton({ store, logger: { warn: () => {} } } as never), 'logger');
    const baton = createBaton({ store, logger: quiet });
    await rejects(() => baton.registerExecutor({ name: 'x' } as Executor), 'execute');
    await rejects(() => baton.registerExecutor(null as never), '', /executor object/);
  });
});
