import {
  ConflictError,
  NotFoundError,
  type Page,
  type PageOptions,
  type Workflow,
  type WorkflowDefinition,
  type WorkflowPatch,
  type WorkflowStatus,
} from '@baton/core';
import { newId, patchWorkflow, workflowFields, workflowResumed } from '@baton/core/store-kit';
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

function assertNameFree(state: State, name: string, self: string | null): void {
  const holder = state.workflowIdByName.get(name);
  if (holder !== undefined && holder !== self) throw new ConflictError('workflow', `name "${name}" is taken`);
}

export function createWorkflow(u: Unit, def: WorkflowDefinition): Workflow {
  assertNameFree(u.state, def.name, null);
  const now = Date.now();
  const rec: WorkflowRec = { id: newId(), ...cloneJson(workflowFields(def)), createdAt: now, updatedAt: now };
  u.put('workflows', rec);
  return workflowModel(rec);
}

/** Patched by core's patch rule (`patchWorkflow`), in the caller's unit. */
export function updateWorkflow(u: Unit, id: string, patch: WorkflowPatch): Workflow {
  const current = workflowRec(u.state, id);
  const fields = patchWorkflow(workflowModel(current), patch);
  assertNameFree(u.state, fields.name, id);
  const rec: WorkflowRec = { id, ...cloneJson(fields), createdAt: current.createdAt, updatedAt: bumped(current.updatedAt, Date.now()) };
  u.put('workflows', rec);
  if (workflowResumed(current, rec)) u.tasksReady = true;
  return workflowModel(rec);
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
