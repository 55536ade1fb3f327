import { describe, it } from 'vitest';
import type { Store } from '../store.js';
import { harness, skipped, type StoreFactory } from './factory.js';

export type Case = (name: string, fn: () => Promise<void>) => void;
export interface SuiteTools {
  /** A fresh store, closed after the test. */
  open(): Promise<Store>;
  /** Another handle on the same data, closed after the test. */
  again(store: Store): Promise<Store>;
}

/** A describe block whose cases honour the factory's skip list. */
export function suite(factory: StoreFactory, name: string, body: (test: Case, tools: SuiteTools) => void): void {
  describe(`${factory.name} store: ${name}`, () => {
    const tools = harness(factory);
    const test: Case = (caseName, fn) => {
      const reason = skipped(factory, name, caseName);
      it.skipIf(reason !== undefined)(reason ? `${caseName} (skipped: ${reason})` : caseName, fn);
    };
    body(test, tools);
  });
}
