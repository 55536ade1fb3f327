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
} from '@baton/core';
import type { Kind } from './layout.js';
import type { LogRec, RecByKind } from './records.js';

/**
 * Disk ⇄ memory conversion with a shape check. A file that does not parse, or
 * parses into something that is not the record it should be, is reported as a
 * CorruptDataError naming the file and the field: never dropped, never
 * rewritten.
 */

interface Field {
  name: string;
  test: (value: unknown) => boolean;
  want: string;
  date?: boolean;
  optional?: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown) => Number.isSafeInteger(v);
const isIso = (v: unknown) => typeof v === 'string' && Number.isFinite(Date.parse(v));
const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');

const f = (name: string, test: (v: unknown) => boolean, want: string): Field => ({ name, test, want });
const str = (name: string) => f(name, (v) => typeof v === 'string', 'a string');
const strOrNull = (name: string) => f(name, (v) => v === null || typeof v === 'string', 'a string or null');
const int = (name: string) => f(name, isInt, 'an integer');
const intOrNull = (name: string) => f(name, (v) => v === null || isInt(v), 'an integer or null');
const num = (name: string) => f(name, (v) => typeof v === 'number' && Number.isFinite(v), 'a number');
const bool = (name: string) => f(name, (v) => typeof v === 'boolean', 'true or false');
const obj = (name: string) => f(name, isObject, 'an object');
const json = (name: string) => f(name, (v) => v !== undefined, 'a JSON value');
const list = (name: string) => f(name, (v) => Array.isArray(v), 'an array');
const stringList = (name: string) => f(name, strings, 'an array of strings');
const oneOf = (name: string, values: readonly string[], nullable = false) =>
  f(name, (v) => (nullable && v === null) || values.includes(v as string), `one of ${values.join(', ')}${nullable ? ' or null' : ''}`);
const date = (name: string): Field => ({ name, test: isIso, want: 'an ISO date', date: true });
const dateOrNull = (name: string): Field => ({ name, test: (v) => v === null || isIso(v), want: 'an ISO date or null', date: true });
const optional = (field: Field): Field => ({ ...field, optional: true });

const objOrNull = (name: string) => f(name, (v) => v === null || isObject(v), 'an object or null');
const concurrency = f('concurrency', (v) => isInt(v) || isObject(v), 'an integer or { key, limit }');
const claimTimes = f('claims', (v) => Array.isArray(v) && v.every(isInt), 'an array of epoch milliseconds');

const stepState = f(
  'steps',
  (v) =>
    Array.isArray(v) &&
    v.every(
      (s) =>
        isObject(s) &&
        typeof s.name === 'string' &&
        isInt(s.position) &&
        isInt(s.taskCount) &&
        isInt(s.succeeded) &&
        isInt(s.depsRemaining) &&
        strings(s.dependsOn) &&
        strings(s.dependents) &&
        strings(s.downstream),
    ),
  'an array of step states',
);

/** Fields in the order they are written, so files read top-down like the model. */
const SPECS: { [K in Kind]: Field[] } = {
  workflows: [
    str('id'), str('name'), strOrNull('description'), oneOf('status', WORKFLOW_STATUSES), strOrNull('executor'),
    optional(int('timeoutMs')), optional(obj('retry')), optional(int('priority')), optional(concurrency),
    optional(obj('rateLimit')),
    list('steps'), list('schedules'), obj('metadata'), date('createdAt'), date('updatedAt'),
  ],
  runs: [
    str('id'), str('workflowId'), str('workflowName'), oneOf('status', RUN_STATUSES), obj('inputs'), oneOf('triggeredBy', TRIGGERS),
    strOrNull('idempotencyKey'), strOrNull('error'), oneOf('failureStatus', RUN_STATUSES, true),
    int('tasksTotal'), int('tasksFinished'), int('tasksFailed'), obj('metadata'),
    dateOrNull('startedAt'), dateOrNull('finishedAt'), intOrNull('durationMs'), date('createdAt'), date('updatedAt'),
  ],
  'run-steps': [str('runId'), stepState],
  tasks: [
    str('id'), str('runId'), str('workflowId'), str('stepName'), int('position'), int('taskIndex'), int('taskCount'),
    oneOf('status', TASK_STATUSES), obj('params'), json('output'), strOrNull('error'), strOrNull('executionName'),
    int('priority'), date('runAt'), int('attempt'), int('maxAttempts'),
    strOrNull('leaseId'), strOrNull('leaseOwner'), dateOrNull('leaseExpiresAt'), obj('metadata'), strOrNull('workspace'),
    // Absent in files written before limits existed: read as no limit.
    optional(objOrNull('concurrencyLimit')), optional(objOrNull('rateLimit')),
    dateOrNull('dispatchedAt'), dateOrNull('startedAt'), dateOrNull('finishedAt'), date('createdAt'), date('updatedAt'),
  ],
  blocks: [str('id'), str('title'), str('content'), stringList('tags'), strOrNull('folderPath'), date('createdAt'), date('updatedAt')],
  payloads: [
    str('id'), str('name'), list('blocks'), num('temperature'), int('responseLength'), int('llmPort'), oneOf('modelFormat', MODEL_FORMATS),
    date('createdAt'), date('updatedAt'),
  ],
  config: [str('key'), json('value'), oneOf('valueType', CONFIG_VALUE_TYPES), strOrNull('description'), bool('isSecret'), date('createdAt'), date('updatedAt')],
  sessions: [
    str('id'), str('clientId'), strOrNull('userId'), oneOf('connectionType', CONNECTION_TYPES), bool('isActive'), obj('metadata'),
    date('lastHeartbeat'), date('createdAt'), date('updatedAt'),
  ],
  'tool-executions': [
    str('id'), strOrNull('taskId'), strOrNull('runId'), str('toolName'), json('arguments'), json('output'),
    oneOf('status', TOOL_EXECUTION_STATUSES), strOrNull('error'), intOrNull('durationMs'), date('createdAt'), dateOrNull('completedAt'),
  ],
  'rate-windows': [str('key'), claimTimes],
};

/** The field naming each kind's record (its file name derives from it). */
export const KEY_FIELD: { [K in Kind]: string } = {
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

export function keyOf<K extends Kind>(kind: K, rec: RecByKind[K]): string {
  return (rec as unknown as Record<string, string>)[KEY_FIELD[kind]]!;
}

/** Parses file text; `location` names the file in errors. */
export function parseJson(text: string, location: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CorruptDataError(location, `not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

function check(fields: Field[], raw: unknown, location: string): Record<string, unknown> {
  if (!isObject(raw)) throw new CorruptDataError(location, 'expected a JSON object');
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = raw[field.name];
    if (value === undefined && field.optional) continue;
    if (!field.test(value)) throw new CorruptDataError(location, `field "${field.name}" must be ${field.want}, found ${describe(value)}`);
    out[field.name] = field.date && value !== null ? Date.parse(value as string) : value;
  }
  return out;
}

const describe = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v)?.slice(0, 60) ?? typeof v);

/** Checks a record file's text and converts it to its in-memory record. */
export function decode<K extends Kind>(kind: K, text: string, location: string): RecByKind[K] {
  return check(SPECS[kind], parseJson(text, location), location) as unknown as RecByKind[K];
}

/** A record as file text: the spec's fields in order, times as ISO strings. */
export function encode<K extends Kind>(kind: K, rec: RecByKind[K]): string {
  const source = rec as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of SPECS[kind]) {
    const value = source[field.name];
    if (value === undefined) continue;
    out[field.name] = field.date && value !== null ? new Date(value as number).toISOString() : value;
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}

const logFields = [int('id'), strOrNull('taskId'), oneOf('type', LOG_TYPES), str('content'), date('createdAt')];

/** A log batch file: `{ runId, logs: [...] }`. */
export function decodeLogFile(text: string, location: string): { runId: string; logs: LogRec[] } {
  const raw = parseJson(text, location);
  if (!isObject(raw) || typeof raw.runId !== 'string' || !Array.isArray(raw.logs)) {
    throw new CorruptDataError(location, 'expected { "runId": string, "logs": [...] }');
  }
  return { runId: raw.runId, logs: raw.logs.map((log, i) => check(logFields, log, `${location} (logs.${i})`) as unknown as LogRec) };
}

export function encodeLogFile(runId: string, logs: LogRec[]): string {
  const out = logs.map((l) => ({ id: l.id, taskId: l.taskId, type: l.type, content: l.content, createdAt: new Date(l.createdAt).toISOString() }));
  return `${JSON.stringify({ runId, logs: out }, null, 2)}\n`;
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

export const DATE_FIELDS: { [K in Kind]: string[] } = Object.fromEntries(
  Object.entries(SPECS).map(([kind, fields]) => [kind, fields.filter((x) => x.date).map((x) => x.name)]),
) as { [K in Kind]: string[] };
