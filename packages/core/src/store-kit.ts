// `@baton/core/store-kit`: what a Store implementation needs beyond the user API.
// Core decides the domain rules (planning a run, rolling endings up, retry plans,
// paging, input validation); a store calls these and only reads and writes.
// The conformance suite every store runs is `@baton/core/store-kit/conformance`.
export { guardStore } from './guard.js';
export { STORE_READS } from './read-only-store.js';
export { validateDefinition, resolveStep, retryDelayMs, type ResolvedStep } from './definition.js';
export { evaluateKey, checkKeyTemplate } from './limit-key.js';
export { planRun, hasClusterLimits, newId, type RunPlan, type PlannedStep, type PlannedTask } from './plan.js';
export * as schemas from './validation.js';
export { parse, inferValueType } from './validation.js';
export { DEFAULT_PAGE_SIZE, encodeCursor, decodeCursor } from './paging.js';
export {
  runStatusAfterFailure,
  stepNeedsCounters,
  failureMessage,
  upstreamFailedMessage,
  foldEndings,
  runEndStatus,
  runDurationMs,
  groupBy,
  type Ending,
  type RunDelta,
  type RunCounters,
} from './rollup.js';
export { planRetry, RETRYABLE_TASK_STATUSES, type RetryInput, type RetryPlan } from './retry.js';
export {
  PAYLOAD_DEFAULTS,
  patchChanges,
  workflowFields,
  patchWorkflow,
  workflowResumed,
  newRun,
  blockFields,
  blockChanges,
  payloadFields,
  payloadChanges,
  configFields,
  toolExecutionFields,
  type Fields,
} from './records.js';
export {
  ACTIVE_RUN_STATUSES,
  CANCELLED_AT_ONCE_TASK_STATUSES,
  DEFAULT_CANCEL_REASON,
  assertTriggerable,
  cancelledRunFields,
  runFinishedError,
  leaseExpiredMessage,
  endedTaskError,
  firstListings,
  finishOutcomes,
  toolExecutionFinishedError,
} from './run-rules.js';
