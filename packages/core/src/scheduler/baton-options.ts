import { z } from 'zod';
import type { Executor } from '../executor.js';
import type { TriggeredBy } from '../models.js';
import type { NewRun, Store } from '../store.js';
import { ValidationError } from '../errors.js';
import { name as nameSchema, newRun as newRunSchema, parse } from '../validation.js';

/** `createBaton`'s options and `trigger`'s, with the schemas that check them (unknown keys refused). */

export interface BatonOptions {
  store: Store;
  /** Executors besides the built-in `function` one. */
  executors?: Executor[];
  /** This worker's id, also its session id. @defaultValue `<hostname>:<pid>:<random>` */
  workerId?: string;
  /** Most tasks running at once in this process. @defaultValue 10 */
  concurrency?: number;
  /** How long a claimed task stays leased without a heartbeat. @defaultValue 30000 */
  leaseMs?: number;
  /** How often leases and the session are renewed. @defaultValue leaseMs / 3 */
  heartbeatMs?: number;
  /** How often an idle worker looks for due tasks (wake-ups make most polls moot). @defaultValue 1000 */
  pollIntervalMs?: number;
  /** How often expired leases are taken back. @defaultValue min(leaseMs / 2, 5000) */
  recoverIntervalMs?: number;
  /**
   * After an attempt is aborted (timeout, cancellation, shutdown), how long to wait for its executor
   * to wind down before recording the end; the process executor's kill grace fits within it. @defaultValue 6000
   */
  abortGraceMs?: number;
  /** How long `stop()` lets tasks in flight finish before aborting them. @defaultValue 10000 */
  shutdownGraceMs?: number;
  /** Claim only tasks of the workflows this instance defined. @defaultValue false */
  onlyDefinedWorkflows?: boolean;
  /** Run the cron schedules of defined workflows while started. @defaultValue true */
  schedules?: boolean;
  /** Where Baton reports what it recovers from. @defaultValue console.warn / console.error */
  logger?: { warn(message: string): void; error(message: string): void };
}

/** The run to create (the store's `NewRun`), its workflow named by the call. */
export interface TriggerOptions extends Omit<NewRun, 'workflowId' | 'triggeredBy'> {
  /** @defaultValue 'api' */
  triggeredBy?: TriggeredBy;
}

const intOption = (min: number) => z.number().int('must be an integer').min(min, `must be at least ${min}`);
const STORE_METHODS = ['claimTasks', 'finishTasks', 'createRun', 'getRun', 'findWorkflow', 'registerSession'] as const;
const isStore = (v: unknown) =>
  typeof v === 'object' && v !== null && STORE_METHODS.every((m) => typeof (v as Record<string, unknown>)[m] === 'function');
export const executorSchema = z.object(
  {
    name: nameSchema,
    execute: z.custom<Executor['execute']>((v) => typeof v === 'function', 'must be a function (ctx) => Promise<output>'),
    validateConfig: z.custom((v) => typeof v === 'function', 'must be a function').optional(),
    reportsStart: z.boolean().optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be an executor object ({ name, execute })' : undefined) },
);
export const optionsSchema = z.strictObject({
  store: z.custom<Store>(isStore, 'is required: a Store such as openSqliteStore(), openPgStore() or openFileStore()'),
  executors: z.array(executorSchema).optional(),
  logger: z
    .custom(
      (v) => typeof (v as { warn?: unknown })?.warn === 'function' && typeof (v as { error?: unknown })?.error === 'function',
      'must have warn(message) and error(message)',
    )
    .optional(),
  onlyDefinedWorkflows: z.boolean().optional(),
  schedules: z.boolean().optional(),
  concurrency: intOption(1).max(10_000).optional(),
  leaseMs: intOption(100).optional(),
  heartbeatMs: intOption(10).optional(),
  pollIntervalMs: intOption(1).optional(),
  recoverIntervalMs: intOption(10).optional(),
  shutdownGraceMs: intOption(0).optional(),
  abortGraceMs: intOption(0).optional(),
  workerId: z.string().min(1).optional(),
});
// The run the store is asked to create, minus what Baton fills in; unknown keys (`input` for `inputs`) are refused.
const { workflowId: _workflowId, ...triggerFields } = newRunSchema.shape;
export const triggerSchema = z.strictObject(triggerFields, {
  error: (issue) =>
    issue.code === 'invalid_type' ? 'must be an options object ({ inputs, triggeredBy, idempotencyKey, metadata, runAt })' : undefined,
});

/** Checks one of `triggerMany`'s items by `trigger`'s rules, each issue's path under `items.<i>`. */
export function parseTriggerItem(item: unknown, i: number): void {
  if (item === null || typeof item !== 'object')
    throw new ValidationError('trigger items', [{ path: `items.${i}`, message: 'must be an object' }]);
  try {
    parse(triggerSchema, item, 'trigger items');
  } catch (error) {
    throw (error as ValidationError).under(`items.${i}`);
  }
}
