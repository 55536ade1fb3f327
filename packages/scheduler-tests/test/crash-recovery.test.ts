import { fileURLToPath } from 'node:url';
import { spawnTs } from '@baton/test-kit';
import { expect } from 'vitest';
import { allTasks, eachStore, onCleanup, testBaton, until } from '../src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url));

eachStore('scheduler: crash recovery and fencing', ({ it, tempStore }) => {
  it('takes over the tasks of a worker killed with SIGKILL once its leases expire, and the run completes', async () => {
    const { store, spec } = await tempStore();
    const worker = spawnTs(fixture, [spec, '1000']);
    const child = worker.process;
    onCleanup(() => void child.kill('SIGKILL'));
    await worker.ready();

    const baton = testBaton(store, { leaseMs: 1000 });
    const executedHere: number[] = [];
    await baton.defineWorkflow(
      { name: 'crashy', steps: [{ name: 's', taskCount: 8 }] },
      { s: async (ctx) => void executedHere.push(ctx.taskIndex) },
    );
    const run = await baton.trigger('crashy');
    await until(() => worker.lines.filter((l) => l.startsWith('started')).length >= 4, 10_000, 'the child to start 4 tasks');

    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const killedAt = Date.now();
    await baton.start();
    const done = await baton.waitForRun(run.id, { timeoutMs: 15_000 });
    expect(done.status).toBe('success');
    // Recovery waits for lease expiry (1 s) and no longer than a few seconds.
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    const tasks = await allTasks(store, run.id);
    expect(tasks.every((t) => t.status === 'success')).toBe(true);
    const takenOver = tasks.filter((t) => t.attempt === 2);
    expect(takenOver.length).toBeGreaterThanOrEqual(4);
    expect(new Set(executedHere).size).toBe(8);
  });

  it('refuses the late completion of a stale worker whose task another worker took over', async () => {
    const { store } = await tempStore();
    await store.createWorkflow({ name: 'contested', steps: [{ name: 's' }] });
    const wf = (await store.findWorkflow('contested'))!;
    const { run } = await store.createRun({ workflowId: wf.id });
    const [stale] = await store.claimTasks({ workerId: 'stale', limit: 1, leaseMs: 50 });
    await new Promise((r) => setTimeout(r, 80));
    await store.recoverExpiredLeases();

    // A live worker takes the task over and finishes it.
    const baton = testBaton(store);
    const lost: string[] = [];
    baton.on('lease:lost', (e) => lost.push(e.task.id));
    await baton.defineWorkflow({ name: 'contested', steps: [{ name: 's' }] }, { s: async () => 'fresh' });
    await baton.start();
    expect((await baton.waitForRun(run.id)).status).toBe('success');

    const late = await store.finishTasks([{ taskId: stale!.task.id, leaseId: stale!.task.leaseId!, status: 'success', output: 'stale' }]);
    expect(late.outcomes[0]).toMatchObject({ accepted: false, status: 'success' });
    const task = await store.getTask(stale!.task.id);
    expect(task.output).toBe('fresh');
    expect(task.attempt).toBe(2);
  });

  it('aborts a task whose lease was lost and emits lease:lost instead of writing', async () => {
    const { store } = await tempStore();
    // One slot, held by the stuck handler: the released task can go only to the thief. With free
    // slots the worker itself re-claimed it first on the file store (its release wakes the worker).
    const baton = testBaton(store, { concurrency: 1, leaseMs: 300, heartbeatMs: 100, recoverIntervalMs: 50 });
    const lost: string[] = [];
    baton.on('lease:lost', (e) => lost.push(e.task.id));
    let sawAbort = false;
    await baton.defineWorkflow(
      { name: 'stolen', steps: [{ name: 's' }] },
      {
        s: (ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(ctx.signal.reason);
            }),
          ),
      },
    );
    await baton.start();
    const run = await baton.trigger('stolen');
    await until(async () => (await store.listTasks({ runId: run.id, status: 'running' })).items.length === 1, 5000, 'a running task');
    // Another worker steals the lease (simulating a takeover after a pause): release then re-claim.
    const [task] = (await store.listTasks({ runId: run.id })).items;
    await store.releaseTasks([{ taskId: task!.id, leaseId: task!.leaseId! }]);
    const [thief] = await store.claimTasks({ workerId: 'thief', limit: 1, leaseMs: 60_000 });
    expect(thief?.task.id).toBe(task!.id);
    await until(() => lost.length === 1, 5000, 'lease:lost');
    expect(sawAbort).toBe(true);
    const after = await store.getTask(task!.id);
    expect(after.leaseOwner).toBe('thief');
    expect(after.status).toBe('dispatched');
  });
});
