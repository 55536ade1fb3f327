import { z } from 'zod';
import { ValidationError } from './errors.js';
import {
  CONFIG_VALUE_TYPES,
  CONNECTION_TYPES,
  LOG_TYPES,
  MODEL_FORMATS,
  RUN_STATUSES,
  TASK_STATUSES,
  TOOL_EXECUTION_STATUSES,
  TRIGGERS,
  WORKFLOW_STATUSES,
  type ConfigValueType,
  type Json,
} from './models.js';

/**
 * Zod schemas for everything that crosses the public API. `parse` turns zod's
 * issues into a ValidationError whose message names each offending field.
 * Over 300 lines on purpose: every input's schema in one place, so that the
 * rules shared between them (names, ids, JSON, limits) are written once.
 */

export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    what,
    result.error.issues.flatMap((issue) =>
      // An unknown key (a typo: `input` for `inputs`) is named as the offending field itself.
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: [...issue.path, key].map(String).join('.'), message: 'is not a known field' }))
        : [{ path: issue.path.map(String).join('.'), message: issue.message }],
    ),
  );
}

/** True for values that survive JSON.stringify/parse unchanged (no undefined, functions, Dates, NaN). */
export const isJson = (value: unknown, depth = 0): boolean => {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJson(v, depth + 1));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(value as object).every((v) => v !== undefined && isJson(v, depth + 1));
  }
  return false;
};

/** Where a value stops being JSON: the path of the first offending field and what it is; undefined when all is JSON. */
export function nonJsonAt(
  value: unknown,
  path: (string | number)[] = [],
  depth = 0,
): { path: (string | number)[]; message: string } | undefined {
  if (depth > 64) return { path, message: 'is nested more than 64 levels deep (a cycle?)' };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, message: `is ${value}, which JSON cannot hold` };
  if (value === undefined) return { path, message: 'is undefined, which JSON cannot hold (leave the key out or use null)' };
  if (typeof value !== 'object') return { path, message: `is a ${typeof value}, which JSON cannot hold` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = nonJsonAt(value[i], [...path, i], depth + 1);
      if (bad) return bad;
    }
    return undefined;
  }
  if (value instanceof Date) return { path, message: 'is a Date, which JSON cannot hold: pass date.toISOString()' };
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null)
    return { path, message: `is a ${proto?.constructor?.name ?? 'class'} instance, which JSON cannot hold: pass a plain object` };
  for (const [key, v] of Object.entries(value)) {
    const bad = nonJsonAt(v, [...path, key], depth + 1);
    if (bad) return bad;
  }
  return undefined;
}

const jsonCheck = (v: unknown, ctx: z.RefinementCtx) => {
  const bad = nonJsonAt(v);
  if (bad) ctx.addIssue({ code: 'custom', message: bad.message, path: bad.path });
};
/** Any JSON value; an offending field is named by its path (`inputs.when: … is a Date`). */
export const json = z.custom<Json>(() => true).superRefine(jsonCheck);
export const jsonObject = z
  .custom<{ [key: string]: Json }>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'must be a JSON object' })
  .superRefine(jsonCheck);

export const id = z.string().min(1, 'must not be empty').max(200);
export const name = z
  .string()
  .min(1, 'must not be empty')
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must start with a letter or digit and use only letters, digits, _ . : -');
const positiveInt = z.number().int('must be an integer').positive('must be positive');
const nonNegativeInt = z.number().int('must be an integer').nonnegative('must not be negative');

export const retryPolicy = z
  .object({
    maxAttempts: positiveInt.max(1000),
    initialDelayMs: nonNegativeInt,
    backoffFactor: z.number().min(1, 'must be at least 1'),
    maxDelayMs: nonNegativeInt,
    jitter: z.number().min(0).max(1),
  })
  .partial()
  .strict();

/** A limit key or key template (see `LimitKey`); its placeholders are checked by `checkKeyTemplate`. */
const limitKey = z.string().min(1, 'must not be empty').max(500);
export const concurrencyLimit = z.object({ key: limitKey, limit: positiveInt.max(1_000_000) }).strict();
export const rateLimit = z.object({ key: limitKey, limit: positiveInt.max(100_000), periodMs: positiveInt.max(31 * 86_400_000) }).strict();

const stepSettings = {
  timeoutMs: positiveInt.optional(),
  retry: retryPolicy.optional(),
  priority: z.number().int('must be an integer').min(-1000).max(1000).optional(),
  concurrency: z.union([positiveInt, concurrencyLimit]).optional(),
  rateLimit: rateLimit.optional(),
};

export const stepDefinition = z
  .object({
    name,
    executor: name.optional(),
    config: jsonObject.optional(),
    params: jsonObject.optional(),
    dependsOn: z.array(name).optional(),
    taskCount: positiveInt.max(1_000_000).optional(),
    paramsList: z.array(jsonObject).min(1, 'must not be empty').max(1_000_000).optional(),
    metadata: jsonObject.optional(),
    workspace: z.string().min(1).optional(),
    title: z.string().max(500).optional(),
    ...stepSettings,
  })
  .strict()
  .refine((s) => !(s.taskCount !== undefined && s.paramsList !== undefined), {
    message: 'give taskCount or paramsList, not both',
    path: ['paramsList'],
  });

export const scheduleDefinition = z
  .object({
    name: name.optional(),
    cron: z.string().min(1, 'must not be empty'),
    timezone: z.string().min(1).optional(),
    inputs: jsonObject.optional(),
    catchUp: z.enum(['skip', 'run-last']).optional(),
  })
  .strict();

export const workflowDefinition = z
  .object({
    name,
    description: z.string().max(10_000).optional(),
    status: z.enum(WORKFLOW_STATUSES).optional(),
    executor: name.optional(),
    steps: z.array(stepDefinition).min(1, 'a workflow needs at least one step'),
    schedules: z.array(scheduleDefinition).optional(),
    metadata: jsonObject.optional(),
    ...stepSettings,
  })
  .strict();

/** The patch rule (core `records.ts`): `null` clears a field that has a default; name, status and steps have none. */
export const workflowPatch = z
  .object({
    name: name.optional(),
    description: z.string().max(10_000).nullable().optional(),
    status: z.enum(WORKFLOW_STATUSES).optional(),
    executor: name.nullable().optional(),
    steps: z.array(stepDefinition).min(1, 'a workflow needs at least one step').optional(),
    schedules: z.array(scheduleDefinition).nullable().optional(),
    metadata: jsonObject.nullable().optional(),
    timeoutMs: stepSettings.timeoutMs.nullable(),
    retry: stepSettings.retry.nullable(),
    priority: stepSettings.priority.nullable(),
    concurrency: stepSettings.concurrency.nullable(),
    rateLimit: stepSettings.rateLimit.nullable(),
  })
  .strict();

const limit = z.number().int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000');
export const pageOptions = { limit: limit.optional(), cursor: z.string().min(1).nullable().optional() };

/** Runs one `createRuns` (`triggerMany`) call may create. */
export const MAX_RUNS_PER_CALL = 100_000;

export const newRun = z
  .object({
    workflowId: id,
    inputs: jsonObject.optional(),
    triggeredBy: z.enum(TRIGGERS).optional(),
    idempotencyKey: z.string().min(1, 'must not be empty').max(500).optional(),
    metadata: jsonObject.optional(),
    runAt: z.date().optional(),
    priority: z.number().int('must be an integer').min(-1000).max(1000).optional(),
  })
  .strict();

export const runQuery = z
  .object({ workflowId: id.optional(), status: z.enum(RUN_STATUSES).optional(), triggeredBy: z.enum(TRIGGERS).optional(), ...pageOptions })
  .strict();
export const runCountQuery = z.object({ workflowId: id.optional() }).strict();
export const taskQuery = z
  .object({ runId: id, status: z.enum(TASK_STATUSES).optional(), stepName: name.optional(), ...pageOptions })
  .strict();
export const workflowQuery = z.object({ status: z.enum(WORKFLOW_STATUSES).optional(), ...pageOptions }).strict();

export const lease = z.object({ taskId: id, leaseId: id }).strict();
export const leaseMs = z.number().int('must be an integer').min(10, 'must be at least 10').max(86_400_000);
export const claimOptions = z
  .object({
    workerId: id,
    limit: z.number().int('must be an integer').min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
    leaseMs,
    workflowIds: z.array(id).optional(),
    excludeWorkflowIds: z.array(id).optional(),
    running: z.boolean().optional(),
    deferRunStart: z.boolean().optional(),
  })
  .strict();

const errorText = z.string().max(1_000_000);
export const taskResult = z.discriminatedUnion('status', [
  z.object({ taskId: id, leaseId: id, startedAt: z.date().optional(), status: z.literal('success'), output: json }).strict(),
  z
    .object({
      taskId: id,
      leaseId: id,
      startedAt: z.date().optional(),
      status: z.enum(['failed', 'timeout']),
      error: errorText,
      retryAt: z.date().optional(),
    })
    .strict(),
  z
    .object({ taskId: id, leaseId: id, startedAt: z.date().optional(), status: z.literal('cancelled'), error: errorText.optional() })
    .strict(),
]);

export const newLog = z
  .object({ runId: id, taskId: id.nullable().optional(), type: z.enum(LOG_TYPES), content: z.string().max(10_000_000) })
  .strict();

export const tag = z
  .string()
  .min(1, 'must not be empty')
  .max(200)
  .regex(/^[^,]+$/, 'must not contain a comma');
export const newBlock = z
  .object({
    title: z.string().min(1, 'must not be empty').max(500),
    content: z.string().max(10_000_000).optional(),
    tags: z.array(tag).optional(),
    folderPath: z.string().min(1).max(1000).nullable().optional(),
  })
  .strict();
/** The patch rule: `null` clears content, tags and folderPath; a title cannot be cleared. */
export const blockPatch = z
  .object({
    title: newBlock.shape.title.optional(),
    content: newBlock.shape.content.nullable(),
    tags: newBlock.shape.tags.nullable(),
    folderPath: newBlock.shape.folderPath,
  })
  .strict();

export const blockRef = z.union([z.object({ blockId: id }).strict(), z.object({ tag }).strict()]);
export const newPayload = z
  .object({
    name: z.string().min(1, 'must not be empty').max(500),
    blocks: z.array(blockRef).optional(),
    temperature: z.number().min(0).max(5).optional(),
    responseLength: positiveInt.max(1_000_000).optional(),
    llmPort: z.number().int().min(1).max(65535).optional(),
    modelFormat: z.enum(MODEL_FORMATS).optional(),
  })
  .strict();
/** The patch rule: `null` puts a setting back to its default; a name cannot be cleared. */
export const payloadPatch = z
  .object({
    name: newPayload.shape.name.optional(),
    blocks: newPayload.shape.blocks.nullable(),
    temperature: newPayload.shape.temperature.nullable(),
    responseLength: newPayload.shape.responseLength.nullable(),
    llmPort: newPayload.shape.llmPort.nullable(),
    modelFormat: newPayload.shape.modelFormat.nullable(),
  })
  .strict();

export function inferValueType(value: Json): ConfigValueType {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  return 'json';
}

const valueFits: Record<ConfigValueType, (v: Json) => boolean> = {
  string: (v) => typeof v === 'string',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
  json: () => true,
};

export const configKey = z
  .string()
  .min(1, 'must not be empty')
  .max(500)
  .regex(/^[A-Za-z0-9_.:/-]+$/, 'must use only letters, digits, _ . : / -');
export const newConfigEntry = z
  .object({
    key: configKey,
    value: json,
    valueType: z.enum(CONFIG_VALUE_TYPES).optional(),
    description: z.string().max(10_000).nullable().optional(),
    isSecret: z.boolean().optional(),
  })
  .strict()
  .refine((e) => e.valueType === undefined || valueFits[e.valueType](e.value), {
    message: 'value does not match valueType',
    path: ['value'],
  });

export const expireSessionsOptions = z.object({ connectionType: z.enum(CONNECTION_TYPES).optional() }).strict();

export const newSession = z
  .object({
    id: id.optional(),
    clientId: z.string().min(1, 'must not be empty').max(500),
    userId: z.string().min(1).max(500).nullable().optional(),
    connectionType: z.enum(CONNECTION_TYPES),
    metadata: jsonObject.optional(),
  })
  .strict();

export const newToolExecution = z
  .object({
    taskId: id.nullable().optional(),
    runId: id.nullable().optional(),
    toolName: z.string().min(1, 'must not be empty').max(500),
    arguments: json,
    status: z.enum(TOOL_EXECUTION_STATUSES).optional(),
  })
  .strict();
export const toolExecutionEnd = z
  .object({
    status: z.enum(['completed', 'failed', 'timeout']),
    output: json.nullable().optional(),
    error: z.string().max(1_000_000).nullable().optional(),
    durationMs: nonNegativeInt,
  })
  .strict();
export const toolExecutionQuery = z
  .object({ taskId: id.optional(), runId: id.optional(), toolName: z.string().min(1).optional(), ...pageOptions })
  .strict();
export const blockQuery = z.object({ tag: tag.optional(), folderPath: z.string().min(1).optional(), ...pageOptions }).strict();
