import { expect } from 'vitest';
import { NotFoundError, StoreClosedError, ValidationError } from '../errors.js';
import type { Store } from '../store.js';
import { claimAll, defineWorkflow, leaseOf, type StoreFactory } from './factory.js';
import { suite } from './suite.js';

/** Counts of everything a bad call could have touched. */
async function snapshot(store: Store) {
  const runs = (await store.listRuns({ limit: 1000 })).items;
  const tasks = [];
  for (const run of runs) tasks.push(...(await store.listTasks({ runId: run.id, limit: 1000 })).items);
  return JSON.stringify({
    workflows: (await store.listWorkflows({ limit: 1000 })).items,
    runs,
    tasks,
    config: await store.listConfig(),
    blocks: (await store.listBlocks({ limit: 1000 })).items,
    sessions: await store.listSessions(),
  });
}

export function lifecycleCases(factory: StoreFactory): void {
  suite(factory, 'transactions', (test, { open }) => {
    test('commits everything done through tx together', async () => {
      const store = await open();
      const wf = await store.transaction(async (tx) => {
        const w = await defineWorkflow(tx);
        await tx.setConfig({ key: 'in.tx', value: 1 });
        await tx.createRun({ workflowId: w.id });
        return w;
      });
      expect((await store.getConfig('in.tx')).value).toBe(1);
      expect((await store.listRuns({ workflowId: wf.id })).items).toHaveLength(1);
    });

    test('rolls back everything when fn throws, and rethrows the same error', async () => {
      const store = await open();
      const boom = new Error('boom');
      const error = await store
        .transaction(async (tx) => {
          const w = await tx.createWorkflow({ name: 'rolled-back', steps: [{ name: 's' }] });
          await tx.setConfig({ key: 'rolled.back', value: true });
          await tx.createRun({ workflowId: w.id });
          await tx.transaction(async (inner) => inner.setConfig({ key: 'nested', value: 1 }));
          throw boom;
        })
        .catch((e) => e);
      expect(error).toBe(boom);
      expect(await store.findWorkflow('rolled-back')).toBeNull();
      await expect(store.getConfig('rolled.back')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getConfig('nested')).rejects.toBeInstanceOf(NotFoundError);
      expect((await store.listRuns({})).items).toHaveLength(0);
    });
  });

  suite(factory, 'transactions joined', (test, { open }) => {
    test('calls on the store itself inside transaction(fn) join it, and roll back with it', async () => {
      const store = await open();
      const error = await store
        .transaction(async (tx) => {
          await tx.setConfig({ key: 'via.tx', value: 1 });
          await store.setConfig({ key: 'via.store', value: 2 });
          expect((await store.getConfig('via.tx')).value).toBe(1);
          throw new Error('undo');
        })
        .catch((e) => e);
      expect(error.message).toBe('undo');
      await expect(store.getConfig('via.tx')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getConfig('via.store')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  suite(factory, 'lifecycle', (test, { open, again }) => {
    test('keeps all data through close and reopen', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 'a', taskCount: 2 }] });
      const { run } = await store.createRun({ workflowId: wf.id, inputs: { keep: 'me' } });
      const claimed = await claimAll(store);
      await store.finishTasks([{ ...leaseOf(claimed[0]!), status: 'success', output: { saved: true } }]);
      await store.appendLogs([{ runId: run.id, type: 'success', content: 'persisted' }]);
      await store.setConfig({ key: 'persist', value: 'yes' });
      await store.createBlock({ title: 'kept' });
      const before = await snapshot(store);
      const reopened = await again(store);
      await store.close();
      expect(await snapshot(reopened)).toBe(before);
      expect((await reopened.listLogs(run.id)).items.map((l) => l.content)).toEqual(['persisted']);
      await reopened.migrate();
      expect((await reopened.getTask(claimed[0]!.task.id)).output).toEqual({ saved: true });
    });

    test('migrate is idempotent; after close every call fails with StoreClosedError', async () => {
      const store = await open();
      await store.migrate();
      await store.migrate();
      await defineWorkflow(store);
      await store.close();
      await store.close();
      await expect(store.listWorkflows()).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.claimTasks({ workerId: 'w', limit: 1, leaseMs: 1000 })).rejects.toBeInstanceOf(StoreClosedError);
    });

    test('migrationStatus lists every migration, all applied once opened, oldest first', async () => {
      const before = Date.now();
      const store = await open();
      const status = await store.migrationStatus();
      expect(status.length).toBeGreaterThan(0);
      expect(new Set(status.map((m) => m.name)).size).toBe(status.length);
      expect([...status.map((m) => m.name)].sort()).toEqual(status.map((m) => m.name));
      for (const m of status) {
        expect(m.appliedAt).toBeInstanceOf(Date);
        // Applied by this open (seconds of slack for file-system time granularity), not some fixed date.
        expect(m.appliedAt!.getTime()).toBeGreaterThan(before - 5000);
      }
      await store.migrate();
      expect(await store.migrationStatus()).toEqual(status);
      await store.close();
      await expect(store.migrationStatus()).rejects.toBeInstanceOf(StoreClosedError);
    });
  });

  suite(factory, 'input validation', (test, { open }) => {
    test('bad input gets a ValidationError naming the field, and nothing stored changes', async () => {
      const store = await open();
      const wf = await defineWorkflow(store, { steps: [{ name: 's', taskCount: 2 }] });
      const { run } = await store.createRun({ workflowId: wf.id });
      await store.setConfig({ key: 'k', value: 1 });
      const before = await snapshot(store);
      const cases: [string, () => Promise<unknown>][] = [
        ['name', () => store.createWorkflow({ name: '', steps: [{ name: 's' }] })],
        ['steps', () => store.createWorkflow({ name: 'x', steps: [] })],
        ['steps.0.timeoutMs', () => store.createWorkflow({ name: 'x', steps: [{ name: 's', timeoutMs: -1 }] })],
        ['steps.0.taskCount', () => store.createWorkflow({ name: 'x', steps: [{ name: 's', taskCount: 1.5 }] })],
        ['steps.0.params', () => store.createWorkflow({ name: 'x', steps: [{ name: 's', params: { d: new Date() } as never }] })],
        ['status', () => store.updateWorkflow(wf.id, { status: 'sleeping' as never })],
        ['inputs', () => store.createRun({ workflowId: wf.id, inputs: { n: Number.NaN } })],
        ['inputs', () => store.createRun({ workflowId: wf.id, inputs: { u: undefined } as never })],
        ['triggeredBy', () => store.createRun({ workflowId: wf.id, triggeredBy: 'cron' as never })],
        ['workflowId', () => store.createRun({ workflowId: '' })],
        ['limit', () => store.listRuns({ limit: -1 })],
        ['limit', () => store.claimTasks({ workerId: 'w', limit: 0, leaseMs: 1000 })],
        ['leaseMs', () => store.claimTasks({ workerId: 'w', limit: 1, leaseMs: -5 })],
        ['workerId', () => store.claimTasks({ workerId: '', limit: 1, leaseMs: 1000 })],
        ['cursor', () => store.listRuns({ cursor: 'not-a-cursor' })],
        ['0.output', () => store.finishTasks([{ taskId: 't', leaseId: 'l', status: 'success', output: (() => 1) as never }])],
        ['0.status', () => store.finishTasks([{ taskId: 't', leaseId: 'l', status: 'done' } as never])],
        ['0.type', () => store.appendLogs([{ runId: run.id, type: 'shout' as never, content: 'x' }])],
        ['0.content', () => store.appendLogs([{ runId: run.id, type: 'log', content: 42 as never }])],
        ['title', () => store.createBlock({ title: '' })],
        ['tags.0', () => store.createBlock({ title: 't', tags: ['a,b'] })],
        ['temperature', () => store.createPayload({ name: 'p', temperature: -1 })],
        ['modelFormat', () => store.createPayload({ name: 'p', modelFormat: 'gpt' as never })],
        ['key', () => store.setConfig({ key: 'has space', value: 1 })],
        ['value', () => store.setConfig({ key: 'k', value: 'x', valueType: 'boolean' })],
        ['connectionType', () => store.registerSession({ clientId: 'c', connectionType: 'carrier-pigeon' as never })],
        ['toolName', () => store.recordToolExecution({ toolName: '', arguments: {} })],
        ['durationMs', () => store.finishToolExecution('x', { status: 'completed', durationMs: -3 })],
      ];
      for (const [field, call] of cases) {
        const error = await call().then(
          () => undefined,
          (e) => e,
        );
        expect(error, `expected a ValidationError for ${field}`).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).message, field).toContain(field);
      }
      expect(await snapshot(store)).toBe(before);
    });
  });
}
