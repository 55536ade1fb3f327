/**
 * The Store conformance suite. Each store package runs it against its own
 * store: `runStoreConformance({ name, create, openAgain })`.
 */
import { integrityCases } from './integrity.js';
import type { StoreFactory } from './factory.js';
import { executionCases } from './executions.js';
import { finishCases } from './finish.js';
import { lifecycleCases } from './lifecycle.js';
import { limitCases } from './limits.js';
import { manyRunsCases } from './many-runs.js';
import { patchCases } from './patches.js';
import { queueCases } from './queue.js';
import { recordCases } from './records.js';
import { retryCases } from './retry.js';
import { runQueryCases } from './run-queries.js';
import { runStartedCases } from './run-started.js';
import { workflowAndRunCases } from './workflows-runs.js';

export type { StoreFactory } from './factory.js';
export { claimAll, defineWorkflow, leaseOf } from './factory.js';

export function runStoreConformance(factory: StoreFactory): void {
  workflowAndRunCases(factory);
  queueCases(factory);
  finishCases(factory);
  manyRunsCases(factory);
  runStartedCases(factory);
  retryCases(factory);
  runQueryCases(factory);
  recordCases(factory);
  patchCases(factory);
  lifecycleCases(factory);
  limitCases(factory);
  executionCases(factory);
  integrityCases(factory);
}
