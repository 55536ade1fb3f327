import { validateDefinition } from './definition.js';
import { inferValueType } from './validation.js';
import type { Block, ConfigEntry, Payload, Run, ToolExecution, Workflow, WorkflowDefinition } from './models.js';
import type { BlockPatch, NewBlock, NewConfigEntry, NewPayload, NewRun, NewToolExecution, PayloadPatch, WorkflowPatch } from './store.js';

/**
 * What a new record holds and how an update changes it: the defaults and the
 * patch rule every store follows (the SQL stores and the file store call these
 * and only map the result to their rows or files), like the roll-up rules of
 * `rollup.ts`. The conformance suite checks that every store agrees.
 *
 * The patch rule, the same for every update (`updateWorkflow`, `updateBlock`,
 * `updatePayload`):
 * - a field left out, or given as `undefined`, keeps its stored value;
 * - `null` clears it: back to the value a create gives when the field is left
 *   out (only fields with such a default accept `null`; `name`, `title`,
 *   `status` and `steps` do not);
 * - any other value replaces it.
 */

/** A record's own fields: what a store writes beside the id and the timestamps it keeps. */
export type Fields<T> = Omit<T, 'id' | 'createdAt' | 'updatedAt'>;

/** Payload settings a create gives when left out (`NewPayload` documents them). */
export const PAYLOAD_DEFAULTS: Readonly<Pick<Payload, 'temperature' | 'responseLength' | 'llmPort' | 'modelFormat'>> = Object.freeze({
  temperature: 0.6,
  responseLength: 1000,
  llmPort: 5001,
  modelFormat: 'default',
});

/** What a patch changes, by the patch rule: `undefined` dropped, `null` replaced by the field's default. */
export function patchChanges<T extends object>(patch: { [K in keyof T]?: T[K] | null }, defaults: { [K in keyof T]?: T[K] }): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(patch) as (keyof T)[]) {
    const value = patch[key];
    if (value === undefined) continue;
    out[key] = (value === null ? defaults[key] : value) as T[keyof T];
  }
  return out;
}

// ---- workflows

/** The optional settings a workflow keeps only when set: `null` in a patch removes them. */
const WORKFLOW_SETTINGS = ['timeoutMs', 'retry', 'priority', 'concurrency', 'rateLimit'] as const;

/** A definition's fields as stored: defaults filled in, optional settings present only when set. */
export function workflowFields(def: WorkflowDefinition): Fields<Workflow> {
  const fields: Fields<Workflow> = {
    name: def.name,
    description: def.description ?? null,
    status: def.status ?? 'active',
    executor: def.executor ?? null,
    steps: def.steps,
    schedules: def.schedules ?? [],
    metadata: def.metadata ?? {},
  };
  for (const key of WORKFLOW_SETTINGS) if (def[key] !== undefined && def[key] !== null) Object.assign(fields, { [key]: def[key] });
  return fields;
}

/** A stored workflow as a definition again: no ids, timestamps, nulls or unset settings. */
function definitionOf(w: Workflow): WorkflowDefinition {
  const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = w;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== null && v !== undefined) out[k] = v;
  return out as unknown as WorkflowDefinition;
}

/**
 * The workflow a patch makes of `current`, by the patch rule, checked as a
 * whole definition (a cycle, an unknown dependency → DefinitionError) before
 * any store writes it.
 */
export function patchWorkflow(current: Workflow, patch: WorkflowPatch): Fields<Workflow> {
  const def = { ...definitionOf(current), ...patchChanges<WorkflowDefinition>(patch, {}) } as Record<string, unknown>;
  // A cleared field (null, whose default is "not set") leaves the definition.
  for (const [k, v] of Object.entries(patch)) if (v === null) delete def[k];
  return workflowFields(validateDefinition(def as unknown as WorkflowDefinition));
}

/**
 * Whether a patch that moved a workflow from `before` to `after` made its
 * pending tasks claimable (paused, draft or archived → active): the store then
 * wakes every worker, as after a trigger, instead of each finding the tasks at
 * its next poll.
 */
export function workflowResumed(before: Pick<Workflow, 'status'>, after: Pick<Workflow, 'status'>): boolean {
  return after.status === 'active' && before.status !== 'active';
}

// ---- runs

/**
 * A new run of `workflow` with `tasksTotal` tasks, before any of them started,
 * as one object literal: a store making thousands (`triggerMany`) paid ~0.75 µs
 * a run for a spread of shared fields plus id and times in V8 (CPU profile of
 * 20,000 runs), ~0.05 µs for this.
 */
export function newRun(
  id: string,
  input: NewRun,
  workflow: Pick<Workflow, 'id' | 'name'>,
  tasksTotal: number,
  now: number,
): Run & { startedAt: null; finishedAt: null } {
  return {
    id,
    workflowId: workflow.id,
    workflowName: workflow.name,
    status: 'pending',
    inputs: input.inputs ?? {},
    triggeredBy: input.triggeredBy ?? 'manual',
    idempotencyKey: input.idempotencyKey ?? null,
    error: null,
    tasksTotal,
    tasksFinished: 0,
    tasksFailed: 0,
    metadata: input.metadata ?? {},
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    createdAt: new Date(now),
    updatedAt: new Date(now),
  };
}

// ---- blocks and payloads

// Fresh arrays each call: a store may keep what it is given.
const blockDefaults = () => ({ content: '', tags: [] as string[], folderPath: null });
const payloadDefaults = () => ({ ...PAYLOAD_DEFAULTS, blocks: [] });

export function blockFields(input: NewBlock): Fields<Block> {
  return { title: input.title, ...blockDefaults(), ...patchChanges<Fields<Block>>(input, blockDefaults()) };
}

export function blockChanges(patch: BlockPatch): Partial<Fields<Block>> {
  return patchChanges<Fields<Block>>(patch, blockDefaults());
}

export function payloadFields(input: NewPayload): Fields<Payload> {
  return { name: input.name, ...payloadDefaults(), ...patchChanges<Fields<Payload>>(input, payloadDefaults()) };
}

export function payloadChanges(patch: PayloadPatch): Partial<Fields<Payload>> {
  return patchChanges<Fields<Payload>>(patch, payloadDefaults());
}

// ---- config and audit

/** A config entry as `setConfig` stores it: its type inferred from the value when not given. */
export function configFields(entry: NewConfigEntry): Omit<ConfigEntry, 'createdAt' | 'updatedAt'> {
  return {
    key: entry.key,
    value: entry.value,
    valueType: entry.valueType ?? inferValueType(entry.value),
    description: entry.description ?? null,
    isSecret: entry.isSecret ?? false,
  };
}

/** A tool execution as `recordToolExecution` stores it, before it finishes. */
export function toolExecutionFields(input: NewToolExecution): Omit<ToolExecution, 'id' | 'createdAt'> {
  return {
    taskId: input.taskId ?? null,
    runId: input.runId ?? null,
    toolName: input.toolName,
    arguments: input.arguments,
    output: null,
    status: input.status ?? 'running',
    error: null,
    durationMs: null,
    completedAt: null,
  };
}
