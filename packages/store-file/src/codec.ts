import {
  CONFIG_VALUE_TYPES,
  CONNECTION_TYPES,
  CorruptDataError,
  LOG_TYPES,
  MODEL_FORMATS,
  RUN_STATUSES,
  TASK_STATUSES,
  TOOL_EXECUTION_STATUSES,
  TRIGGERS,
  WORKFLOW_STATUSES,
  type BlockRef,
  type ConcurrencyLimit,
  type Json,
  type RateLimit,
  type RetryPolicy,
  type ScheduleDefinition,
  type StepDefinition,
} from '@baton/core';
import { z } from 'zod';
import type { Kind } from './layout.js';

/**
 * Disk ⇄ memory conversion, one zod schema per record kind. Each schema gives
 * the record's type (`records.ts` infers them), the check of a file (a wrong
 * or unknown field), and the field's path in the error: a file that does not
 * parse, or parses into something that is not the record it should be, is a
 * CorruptDataError naming the file and the field, never dropped, never
 * rewritten. Times are ISO strings on disk and epoch ms in memory (a zod
 * codec, decoded on read). Fields are written in schema order, so files read
 * top-down like the model.
 *
 * JSON a user gave (steps, inputs, outputs) is checked for its outer shape
 * only: its contents were validated when it was written (`guardStore`).
 *
 * Just over 300 lines on purpose: one schema per record kind, side by side, so
 * that a field added to a model is added here in one place.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const str = z.string({ error: 'must be a string' });
const strOrNull = z.string({ error: 'must be a string or null' }).nullable();
const intOrNull = z.number({ error: 'must be an integer or null' }).int({ error: 'must be an integer or null' }).nullable();
const int = z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' });
const num = z.number({ error: 'must be a number' });
const bool = z.boolean({ error: 'must be true or false' });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });
const obj = <T>() => z.custom<T>(isObject, { error: 'must be an object' });
const jsonObject = obj<{ [key: string]: Json }>();
const objOrNull = <T>() => z.custom<T | null>((v) => v === null || isObject(v), { error: 'must be an object or null' });
const list = <T>() => z.custom<T[]>(Array.isArray, { error: 'must be an array' });
const json = z.custom<Json>((v) => v !== undefined, { error: 'must be a JSON value' });
const stringList = z.array(str, { error: 'must be an array of strings' });

/** An ISO date on disk, epoch milliseconds in memory. */
const date = z.codec(
  z.string({ error: 'must be an ISO date' }).refine((v) => Number.isFinite(Date.parse(v)), { error: 'must be an ISO date' }),
  z.number(),
  { decode: (iso) => Date.parse(iso), encode: (ms) => new Date(ms).toISOString() },
);
const dateOrNull = date.nullable();

const stepState = z
  .object({
    name: str,
    position: int,
    taskCount: int,
    succeeded: int,
    depsRemaining: int,
    dependsOn: stringList,
    dependents: stringList,
    downstream: stringList,
  })
  .strict();

const record = <S extends z.ZodRawShape>(shape: S) => z.object(shape).strict();

const RECORD_SCHEMAS = {
  workflows: record({
    id: str,
    name: str,
    description: strOrNull,
    status: oneOf(WORKFLOW_STATUSES),
    executor: strOrNull,
    timeoutMs: int.optional(),
    retry: obj<Partial<RetryPolicy>>().optional(),
    priority: int.optional(),
    concurrency: z.union([int, obj<ConcurrencyLimit>()], { error: 'must be an integer or { key, limit }' }).optional(),
    rateLimit: obj<RateLimit>().optional(),
    steps: list<StepDefinition>(),
    schedules: list<ScheduleDefinition>(),
    metadata: jsonObject,
    createdAt: date,
    updatedAt: date,
  }),
  runs: record({
    id: str,
    workflowId: str,
    workflowName: str,
    status: oneOf(RUN_STATUSES),
    inputs: jsonObject,
    triggeredBy: oneOf(TRIGGERS),
    idempotencyKey: strOrNull,
    error: strOrNull,
    /** The run status its first failing task decided; null while everything succeeded. */
    failureStatus: z.enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(', ')} or null` }).nullable(),
    tasksTotal: int,
    tasksFinished: int,
    tasksFailed: int,
    metadata: jsonObject,
    startedAt: dateOrNull,
    finishedAt: dateOrNull,
    durationMs: intOrNull,
    createdAt: date,
    updatedAt: date,
  }),
  'run-steps': record({ runId: str, steps: z.array(stepState, { error: 'must be an array of step states' }) }),
  tasks: record({
    id: str,
    runId: str,
    workflowId: str,
    stepName: str,
    /** The step's position in the definition, for plan order. */
    position: int,
    taskIndex: int,
    taskCount: int,
    status: oneOf(TASK_STATUSES),
    params: jsonObject,
    output: json,
    error: strOrNull,
    executionName: strOrNull,
    priority: int,
    runAt: date,
    attempt: int,
    maxAttempts: int,
    leaseId: strOrNull,
    leaseOwner: strOrNull,
    leaseExpiresAt: dateOrNull,
    metadata: jsonObject,
    workspace: strOrNull,
    // Absent in files written before limits existed: read as no limit.
    concurrencyLimit: objOrNull<ConcurrencyLimit>().default(null),
    rateLimit: objOrNull<RateLimit>().default(null),
    dispatchedAt: dateOrNull,
    startedAt: dateOrNull,
    finishedAt: dateOrNull,
    createdAt: date,
    updatedAt: date,
  }),
  blocks: record({ id: str, title: str, content: str, tags: stringList, folderPath: strOrNull, createdAt: date, updatedAt: date }),
  payloads: record({
    id: str,
    name: str,
    blocks: list<BlockRef>(),
    temperature: num,
    responseLength: int,
    llmPort: int,
    modelFormat: oneOf(MODEL_FORMATS),
    createdAt: date,
    updatedAt: date,
  }),
  config: record({
    key: str,
    value: json,
    valueType: oneOf(CONFIG_VALUE_TYPES),
    description: strOrNull,
    isSecret: bool,
    createdAt: date,
    updatedAt: date,
  }),
  sessions: record({
    id: str,
    clientId: str,
    userId: strOrNull,
    connectionType: oneOf(CONNECTION_TYPES),
    isActive: bool,
    metadata: jsonObject,
    lastHeartbeat: date,
    createdAt: date,
    updatedAt: date,
  }),
  'tool-executions': record({
    id: str,
    taskId: strOrNull,
    runId: strOrNull,
    toolName: str,
    arguments: json,
    output: json,
    status: oneOf(TOOL_EXECUTION_STATUSES),
    error: strOrNull,
    durationMs: intOrNull,
    createdAt: date,
    completedAt: dateOrNull,
  }),
  /** A rate-limit key's sliding window: the times of its claims younger than its period. */
  'rate-windows': record({ key: str, claims: z.array(int, { error: 'must be an array of epoch milliseconds' }) }),
} as const satisfies { [K in Kind]: z.ZodType };

/** One appended batch of a run's logs: `{ runId, logs: [...] }`. */
const logSchema = record({ id: int, taskId: strOrNull, type: oneOf(LOG_TYPES), content: str, createdAt: date });
const logFileSchema = record({ runId: str, logs: z.array(logSchema) });

export type RecordOf<K extends Kind> = z.output<(typeof RECORD_SCHEMAS)[K]>;
export type LogRecord = z.output<typeof logSchema>;

/** The field naming each kind's record (its file name derives from it). */
const KEY_FIELD: { [K in Kind]: string } = {
  workflows: 'id',
  runs: 'id',
  'run-steps': 'runId',
  tasks: 'id',
  blocks: 'id',
  payloads: 'id',
  config: 'key',
  sessions: 'id',
  'tool-executions': 'id',
  'rate-windows': 'key',
};

export function keyOf(kind: Kind, rec: object): string {
  return (rec as Record<string, string>)[KEY_FIELD[kind]]!;
}

/** Parses file text; `location` names the file in errors. */
export function parseJson(text: string, location: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CorruptDataError(location, `not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** Checks and converts with `schema`; the first issue becomes a CorruptDataError naming the field and what it holds. */
function check<S extends z.ZodType>(schema: S, raw: unknown, location: string): z.output<S> {
  if (!isObject(raw)) throw new CorruptDataError(location, 'expected a JSON object');
  const result = z.safeDecode(schema, raw as z.input<S>);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const at = [...issue.path, issue.keys[0]!].join('.');
    throw new CorruptDataError(location, `field "${at}" is not a field of this record`);
  }
  const at = issue.path.join('.');
  throw new CorruptDataError(location, `field "${at}" ${issue.message}, found ${describe(valueAt(raw, issue.path))}`);
}

const valueAt = (raw: unknown, path: PropertyKey[]) =>
  path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], raw);
const describe = (v: unknown) => (v === undefined ? 'nothing' : (JSON.stringify(v)?.slice(0, 60) ?? typeof v));

/** Checks a record file's text and converts it to its in-memory record. */
export function decode<K extends Kind>(kind: K, text: string, location: string): RecordOf<K> {
  return check(RECORD_SCHEMAS[kind], parseJson(text, location), location) as RecordOf<K>;
}

/**
 * A record as file text: the schema's fields in order, times as ISO strings.
 * Records in memory were built by the store, so this writes without checking
 * them again (`z.encode` would: it cost ~4x per task file, 74 µs against 19).
 */
export function encode(kind: Kind, rec: object): string {
  return `${JSON.stringify(toDisk(FIELDS[kind], rec), null, 2)}\n`;
}

/** Each kind's fields in schema order, with whether each is a time. */
const fieldsOf = (schema: z.ZodObject) =>
  Object.entries(schema.shape).map(([name, field]) => ({ name, date: field === date || field === dateOrNull }));
const FIELDS = Object.fromEntries(Object.entries(RECORD_SCHEMAS).map(([kind, schema]) => [kind, fieldsOf(schema)])) as {
  [K in Kind]: { name: string; date: boolean }[];
};
const LOG_FIELDS = fieldsOf(logSchema);

function toDisk(fields: { name: string; date: boolean }[], rec: object): Record<string, unknown> {
  const source = rec as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const { name, date } of fields) {
    const value = source[name];
    if (value === undefined) continue;
    out[name] = date && typeof value === 'number' ? new Date(value).toISOString() : value;
  }
  return out;
}

/** A log batch file. */
export function decodeLogFile(text: string, location: string): { runId: string; logs: LogRecord[] } {
  return check(logFileSchema, parseJson(text, location), location);
}

export function encodeLogFile(runId: string, logs: LogRecord[]): string {
  return `${JSON.stringify({ runId, logs: logs.map((log) => toDisk(LOG_FIELDS, log)) }, null, 2)}\n`;
}

/** Models out of records: times become Dates, JSON is copied so callers cannot change the index. */
export function toModel<T>(rec: object, dateFields: readonly string[], omit: readonly string[] = []): T {
  const out = structuredClone(rec) as Record<string, unknown>;
  for (const name of dateFields) {
    const value = out[name];
    if (typeof value === 'number') out[name] = new Date(value);
  }
  for (const name of omit) delete out[name];
  return out as T;
}

/** Each kind's time fields: those whose schema is the ISO ⇄ ms codec. */
export const DATE_FIELDS = Object.fromEntries(
  Object.entries(FIELDS).map(([kind, fields]) => [kind, fields.filter((f) => f.date).map((f) => f.name)]),
) as { [K in Kind]: string[] };
