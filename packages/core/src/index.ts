// The user API: models, errors, the Store and Executor contracts, the scheduler.
// What store authors need besides (planning, roll-up, paging, validation, the
// conformance suite) is in `@baton/core/store-kit`.
export * from './models.js';
export * from './errors.js';
export type * from './store.js';
export type * from './executor.js';
export type { ReadOnlyStore } from './read-only-store.js';
export { Baton, createBaton, type BatonOptions, type TriggerOptions } from './scheduler/baton.js';
export type { BatonEvents } from './scheduler/events.js';
export { FUNCTION_EXECUTOR, type TaskHandler } from './scheduler/function-executor.js';
export { REDACTED } from './scheduler/redactor.js';
