import {
  ConflictError,
  NotFoundError,
  newId,
  validateDefinition,
  type Page,
  type PageOptions,
  type Workflow,
  type WorkflowDefinition,
  type WorkflowPatch,
  type WorkflowStatus,
} from '@baton/core';
import { bumped, cloneJson, decodeCursor, takePage, where } from '../page.js';
import type { WorkflowRec } from '../records.js';
import type { State } from '../state.js';
import { workflowModel } from '../to-model.js';
import type { Unit } from '../unit.js';

export function workflowRec(state: State, id: string): WorkflowRec {
  const rec = state.get('workflows', id);
  if (!rec) throw new NotFoundError('workflow', id);
  return rec;
}

/** The definition's parts beyond name and status, with settings kept only when set. */
function definitionFields(def: Partial<WorkflowDefinition>) {
  return {
    executor: def.executor ?? null,
    ...(def.timeoutMs !== undefined && { timeoutMs: def.timeoutMs }),
    ...(def.retry !== undefined && { retry: cloneJson(def.retry) }),
    ...(def.priority !== undefined && { priority: def.priority }),
    ...(def.concurrency !== undefined && { concurrency: cloneJson(def.concurrency) }),
    ...(def.rateLimit !== undefined && { rateLimit: cloneJson(def.rateLimit) }),
    steps: cloneJson(def.steps ?? []),
    schedules: cloneJson(def.schedules ?? []),
    metadata: cloneJson(def.metadata ?? {}),
  };
}

function assertNameFree(state: State, name: string, self: string | null): void {
  const holder = state.workflowIdByName.get(name);
  if (holder !== undefined && holder !== self) throw new ConflictError('workflow', `name "${name}" is taken`);
}

export function createWorkflow(u: Unit, def: WorkflowDefinition): Workflow {
  assertNameFree(u.state, def.name, null);
  const now = Date.now();
  const rec: WorkflowRec = {
    id: newId(),
    name: def.name,
    description: def.description ?? null,
    status: def.status ?? 'active',
    ...definitionFields(def),
    createdAt: now,
    updatedAt: now,
  };
  u.put('workflows', rec);
  return workflowModel(rec);
}

export function updateWorkflow(u: Unit, id: string, patch: WorkflowPatch): Workflow {
  const current = workflowRec(u.state, id);
  const merged = { ...workflowModel(current), ...patch } as WorkflowDefinition;
  validateDefinition(asDefinition(merged));
  assertNameFree(u.state, merged.name, id);
  const rec: WorkflowRec = {
    id,
    name: merged.name,
    description: merged.description ?? null,
    status: merged.status ?? 'active',
    ...definitionFields(merged),
    createdAt: current.createdAt,
    updatedAt: bumped(current.updatedAt, Date.now()),
  };
  u.put('workflows', rec);
  // Un-pausing makes the workflow's pending tasks claimable.
  if (rec.status === 'active' && current.status !== 'active') u.tasksReady = true;
  return workflowModel(rec);
}

/** A stored workflow as a definition again: no ids, timestamps or empty fields. */
function asDefinition(w: WorkflowDefinition & Partial<Workflow>): WorkflowDefinition {
  const { id: _id, createdAt: _c, updatedAt: _u, ...def } = w;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def)) if (v !== null && v !== undefined) out[k] = v;
  return out as unknown as WorkflowDefinition;
}

export function getWorkflow(state: State, id: string): Workflow {
  return workflowModel(workflowRec(state, id));
}

export function findWorkflow(state: State, name: string): Workflow | null {
  const id = state.workflowIdByName.get(name);
  return id === undefined ? null : workflowModel(workflowRec(state, id));
}

/** Oldest first: ids are UUIDv7, ordered by creation time. */
export function listWorkflows(state: State, options: PageOptions & { status?: WorkflowStatus }): Page<Workflow> {
  const after = decodeCursor(options.cursor, 1);
  const recs = [...state.records.workflows.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return takePage(
    where(recs, (w) => (!options.status || w.status === options.status) && (!after || w.id > String(after[0]))),
    options.limit,
    workflowModel,
    (w) => [w.id],
  );
}
