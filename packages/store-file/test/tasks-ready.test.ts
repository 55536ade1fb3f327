import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '@baton/core';
import { openFileStore } from '@baton/store-file';
import { makeDir, removeDir } from './helpers.js';

let dir = '';
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await removeDir(dir);
});

/** Resolves on the listener's next call. */
function nextWake(store: Store): { woken: Promise<void>; stop: () => void } {
  let stop = () => {};
  const woken = new Promise<void>((resolve) => {
    stop = store.onTasksReady!(() => resolve());
  });
  return { woken, stop };
}

describe('onTasksReady', () => {
  it("wakes a handle's listeners when another handle's commit makes tasks claimable", async () => {
    dir = await makeDir();
    const writer = await openFileStore({ directory: dir });
    const watcher = await openFileStore({ directory: dir });
    stores.push(writer, watcher);
    const workflow = await writer.createWorkflow({ name: 'w', executor: 'function', steps: [{ name: 's' }] });

    const created = nextWake(watcher);
    await writer.createRun({ workflowId: workflow.id });
    await created.woken;
    created.stop();

    const [claimed] = await writer.claimTasks({ workerId: 'w', limit: 1, leaseMs: 60_000 });
    const released = nextWake(watcher);
    await writer.releaseTasks([{ taskId: claimed!.task.id, leaseId: claimed!.task.leaseId! }]);
    await released.woken;
    released.stop();
    expect((await watcher.claimTasks({ workerId: 'v', limit: 5, leaseMs: 60_000 })).length).toBe(1);
  });

  it("wakes another handle's listeners when a paused workflow is resumed, not when it is patched and stays paused", async () => {
    dir = await makeDir();
    const writer = await openFileStore({ directory: dir });
    const watcher = await openFileStore({ directory: dir });
    stores.push(writer, watcher);
    const workflow = await writer.createWorkflow({ name: 'w', executor: 'function', steps: [{ name: 's' }] });
    await writer.updateWorkflow(workflow.id, { status: 'paused' });
    const created = nextWake(watcher);
    await writer.createRun({ workflowId: workflow.id });
    await created.woken;
    created.stop();

    let wakes = 0;
    const stop = watcher.onTasksReady!(() => wakes++);
    await writer.updateWorkflow(workflow.id, { description: 'still paused' });
    await new Promise((r) => setTimeout(r, 300));
    expect(wakes).toBe(0);
    stop();
    const resumed = nextWake(watcher);
    await writer.updateWorkflow(workflow.id, { status: 'active' });
    await resumed.woken;
    resumed.stop();
    expect((await watcher.claimTasks({ workerId: 'v', limit: 5, leaseMs: 60_000 })).length).toBe(1);
  });
});
