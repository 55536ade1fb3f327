import {
  FINISHED_TOOL_EXECUTION_STATUSES,
  NotFoundError,
  type NewToolExecution,
  type Page,
  type PageOptions,
  type ToolExecution,
  type ToolExecutionEnd,
} from '@baton/core';
import { newId, toolExecutionFields, toolExecutionFinishedError } from '@baton/core/store-kit';
import { cloneJson, decodeCursor, takePage, where } from '../page.js';
import type { ToolExecutionRec } from '../records.js';
import type { State } from '../state.js';
import { toolExecutionModel } from '../to-model.js';
import type { Unit } from '../unit.js';

export function recordToolExecution(u: Unit, input: NewToolExecution): ToolExecution {
  const rec: ToolExecutionRec = { id: newId(), ...cloneJson(toolExecutionFields(input)), createdAt: Date.now(), completedAt: null };
  u.put('tool-executions', rec);
  return toolExecutionModel(rec);
}

export function finishToolExecution(u: Unit, id: string, end: ToolExecutionEnd): ToolExecution {
  const current = u.state.get('tool-executions', id);
  if (!current) throw new NotFoundError('tool execution', id);
  if ((FINISHED_TOOL_EXECUTION_STATUSES as readonly string[]).includes(current.status))
    throw toolExecutionFinishedError(id, current.status);
  const rec: ToolExecutionRec = {
    ...current,
    status: end.status,
    output: end.output === undefined ? null : cloneJson(end.output),
    error: end.error ?? null,
    durationMs: end.durationMs,
    completedAt: Date.now(),
  };
  u.put('tool-executions', rec);
  return toolExecutionModel(rec);
}

/** Oldest first. */
export function listToolExecutions(
  state: State,
  options: PageOptions & { taskId?: string; runId?: string; toolName?: string },
): Page<ToolExecution> {
  const after = decodeCursor(options.cursor, 1);
  const recs = [...state.records['tool-executions'].values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return takePage(
    where(
      recs,
      (t) =>
        (!options.taskId || t.taskId === options.taskId) &&
        (!options.runId || t.runId === options.runId) &&
        (!options.toolName || t.toolName === options.toolName) &&
        (!after || t.id > String(after[0])),
    ),
    options.limit,
    toolExecutionModel,
    (t) => [t.id],
  );
}
