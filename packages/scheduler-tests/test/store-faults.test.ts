import { afterEach, beforeEach, expect } from 'vitest';
import { StoreUnavailableError, type Store } from '@baton/core';
import { allTasks, eachStore, sleep, testBaton } from '../src/index.js';

// Any rejection nobody handled fails the test that caused it, not just the run's summary.
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** The store with some operations replaced (a failing or hanging database). */
function faulty(store: Store, overrides: Partial<Store>): Store {
  return { ...store, kind: store.kind, ...overrides };
}

eachStore('scheduler: store faults never crash the worker', ({ it, tempStore }) => {
  it('a "running" mark that fails while the handler runs is handled: no unhandled rejection, the task still ends', async () => {
    const { store } = await tempStore();
    let marks = 0;
    const broken = faulty(store, {
      // A claim that does not fold the running mark in (as when an executor reports its own start),
      // so the worker writes the mark separately, while the handler runs.
      claimTasks: async (o) => store.claimTasks({ ...o, running: false }),
      markRunning: async () => {
        marks++;
        throw new StoreUnavailableError('connection terminated');
      },
    });
    const baton = testBaton(broken);
    // The handler outlives the failed mark by far: a rejection left unhandled until it returns is reported meanwhile.
    await baton.defineWorkflow(
      { name: 'slow', steps: [{ name: 's', taskCount: 3 }] },
      {
        s: async () => {
          await sleep(300);
          return 'ok';
        },
      },
    );
    await baton.start();
    const run = await baton.trigger('slow');
    expect((await baton.waitForRun(run.id)).status).toBe('success');
    expect(marks).toBeGreaterThan(0);
    await sleep(50);
    expect(unhandled).toEqual([]);
    const tasks = await allTasks(store, run.id);
    // Finishing recorded the start the failed mark could not.
    expect(tasks.every((t) => t.status === 'success' && t.startedAt !== null)).toBe(true);
  });

  it('claims back off while the store is unavailable, and resume once it is back', async () => {
    const { store } = await tempStore();
    let down = true;
    let failedClaims = 0;
    const flaky = faulty(store, {
      claimTasks: async (o) => {
        if (down) {
          failedClaims++;
          throw new StoreUnavailableError('connection refused');
        }
        return store.claimTasks(o);
      },
    });
    const errors: Error[] = [];
    const baton = testBaton(flaky, { pollIntervalMs: 1 });
    baton.on('error', (e) => errors.push(e));
    await baton.defineWorkflow({ name: 'w', steps: [{ name: 's' }] }, { s: async () => 'ok' });
    const run = await baton.trigger('w');
    await baton.start();
    await sleep(1500);
    // Polling every 1 ms would have made hundreds of attempts; backing off 100, 200, 400, 800 ms makes a handful.
    expect(failedClaims).toBeGreaterThanOrEqual(2);
    expect(failedClaims).toBeLessThan(15);
    expect(errors.every((e) => e instanceof StoreUnavailableError)).toBe(true);
    down = false;
    expect((await baton.waitForRun(run.id, { timeoutMs: 10_000 })).status).toBe('success');
  });

  it('a lease recovery that hangs is never stacked: one at a time, however many ticks pass', async () => {
    const { store } = await tempStore();
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    let sessionsInFlight = 0;
    let sessionMost = 0;
    const slow = faulty(store, {
      recoverExpiredLeases: async (now) => {
        calls++;
        most = Math.max(most, ++inFlight);
        await sleep(400);
        inFlight--;
        return store.recoverExpiredLeases(now);
      },
      heartbeat: async (leases, ms) => {
        most = Math.max(most, ++inFlight);
        await sleep(400);
        inFlight--;
        return store.heartbeat(leases, ms);
      },
      // The session's beat too: stacked, these queued without end (and took the file store's lock 100 times a second).
      heartbeatSession: async (id) => {
        sessionMost = Math.max(sessionMost, ++sessionsInFlight);
        await sleep(400);
        sessionsInFlight--;
        return store.heartbeatSession(id);
      },
    });
    const baton = testBaton(slow, { recoverIntervalMs: 10, heartbeatMs: 10, leaseMs: 5000 });
    await baton.defineWorkflow(
      { name: 'w', steps: [{ name: 's' }] },
      {
        s: async () => {
          await sleep(1000);
          return 'ok';
        },
      },
    );
    const run = await baton.trigger('w');
    await baton.start();
    expect((await baton.waitForRun(run.id)).status).toBe('success');
    expect(calls).toBeGreaterThanOrEqual(2);
    // One recovery and one heartbeat at most at any moment, though ticks came every 10 ms.
    expect(most).toBeLessThanOrEqual(2);
    expect(sessionMost).toBe(1);
  });
});
