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
import { DEFAULT_PAGE, decodeCursor, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';

export async function recordToolExecution(ctx: Ctx, input: NewToolExecution): Promise<ToolExecution> {
  const t = toolExecutionFields(input);
  const row = {
    id: newId(),
    task_id: t.taskId,
    run_id: t.runId,
    tool_name: t.toolName,
    arguments: ctx.dialect.encodeJson(t.arguments),
    output: null,
    status: t.status,
    error: null,
    duration_ms: null,
    created_at: nowMs(),
    completed_at: null,
  };
  return ctx.rows.toolExecution(await ctx.db.insertInto('baton_tool_executions').values(row).returningAll().executeTakeFirstOrThrow());
}

export async function finishToolExecution(ctx: Ctx, id: string, end: ToolExecutionEnd): Promise<ToolExecution> {
  const result = await ctx.db
    .updateTable('baton_tool_executions')
    .set({
      status: end.status,
      output: end.output === undefined || end.output === null ? null : (ctx.dialect.encodeJson(end.output) as never),
      error: end.error ?? null,
      duration_ms: end.durationMs,
      completed_at: nowMs(),
    })
    .where('id', '=', id)
    // Audit records are immutable once finished: the condition makes the check and the write one statement.
    .where('status', 'not in', [...FINISHED_TOOL_EXECUTION_STATUSES])
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    const current = await ctx.db.selectFrom('baton_tool_executions').select('status').where('id', '=', id).executeTakeFirst();
    if (!current) throw new NotFoundError('tool execution', id);
    throw toolExecutionFinishedError(id, current.status);
  }
  const row = await ctx.db.selectFrom('baton_tool_executions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return ctx.rows.toolExecution(row);
}

export async function listToolExecutions(
  ctx: Ctx,
  options: PageOptions & { taskId?: string; runId?: string; toolName?: string },
): Promise<Page<ToolExecution>> {
  const limit = options.limit ?? DEFAULT_PAGE;
  const after = decodeCursor(options.cursor, 1);
  let q = ctx.db
    .selectFrom('baton_tool_executions')
    .selectAll()
    .orderBy('id')
    .limit(limit + 1);
  if (options.taskId) q = q.where('task_id', '=', options.taskId);
  if (options.runId) q = q.where('run_id', '=', options.runId);
  if (options.toolName) q = q.where('tool_name', '=', options.toolName);
  if (after) q = q.where('id', '>', String(after[0]));
  return toPage(await q.execute(), limit, ctx.rows.toolExecution, (r) => [r.id]);
}
