import { createBaton, type Baton, type BatonOptions, type Store } from '@baton/core';
import { afterEach, describe, it } from 'vitest';
import { chosenStores, freshStore, pg, type StoreName, type TestStore } from './stores.js';

const stores = chosenStores();
const pgUp = stores.includes('pg') && (await pg.available('the scheduler tests on PostgreSQL'));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Runs `fn` after the current test (last registered, first run). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** A case whose meaning does not hold on a store says so, as data: the case is listed as skipped with the reason. */
export interface Skip {
  store: StoreName;
  reason: string;
  /** Case names as given to `it`. */
  tests: string[];
}

type Case = (name: string, fn: () => Promise<void>, timeoutMs?: number) => void;

export interface StoreSuite {
  /** Which store this copy of the suite runs on. */
  name: StoreName;
  /** `it`, honouring the skip list. */
  it: Case;
  /** A fresh store of this kind, closed and removed after the test. */
  tempStore(): Promise<TestStore>;
}

/**
 * One describe block per store in BATON_STORES. PostgreSQL unreachable outside
 * CI leaves one passing case that says so (after a loud warning); with CI=true
 * it is an error (see @baton/test-kit's pgKit).
 */
export function eachStore(suite: string, body: (s: StoreSuite) => void, skips: Skip[] = []): void {
  for (const name of stores) {
    if (name === 'pg' && !pgUp) {
      describe(`pg: ${suite}`, () => it('is skipped: no PostgreSQL reachable (see the warning above)', () => {}));
      continue;
    }
    describe(`${name}: ${suite}`, () => {
      const test: Case = (caseName, fn, timeoutMs) => {
        const reason = skips.find((s) => s.store === name && s.tests.includes(caseName))?.reason;
        it.skipIf(reason !== undefined)(reason ? `${caseName} (skipped on ${name}: ${reason})` : caseName, fn, timeoutMs);
      };
      body({
        name,
        it: test,
        async tempStore() {
          const fresh = await freshStore(name);
          cleanups.push(async () => {
            await fresh.store.close();
            await fresh.remove();
          });
          return fresh;
        },
      });
    });
  }
}

/** A Baton with test-friendly timings, stopped after the test (before its store closes). */
export function testBaton(store: Store, options: Partial<BatonOptions> = {}): Baton {
  const baton = createBaton({
    store,
    leaseMs: 2000,
    pollIntervalMs: 50,
    recoverIntervalMs: 100,
    shutdownGraceMs: 2000,
    logger: quiet,
    ...options,
  });
  cleanups.push(() => baton.stop()); // registered after its store's clean-up, so it runs first
  return baton;
}

export const quiet = { warn: () => {}, error: () => {} };

export async function allTasks(store: Store, runId: string) {
  const out = [];
  let cursor: string | null = null;
  do {
    const page = await store.listTasks({ runId, limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
