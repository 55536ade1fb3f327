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
import { newId, patchWorkflow, workflowFields, workflowResumed, type Fields } from '@baton/core/store-kit';
import { DEFAULT_PAGE, bumped, decodeCursor, idParam, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';

/** A workflow's row: its settings and steps in the `definition` JSON column. */
function workflowRow(ctx: Ctx, fields: Fields<Workflow>) {
  const { name, description, status, executor, ...definition } = fields;
  return { name, description, status, executor, definition: ctx.dialect.encodeJson(definition) };
}

async function uniqueName<T>(ctx: Ctx, name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (ctx.dialect.isUniqueViolation(error)) throw new ConflictError('workflow', `name "${name}" is taken`, { cause: error });
    throw error;
  }
}

export async function createWorkflow(ctx: Ctx, def: WorkflowDefinition): Promise<Workflow> {
  const now = nowMs();
  const row = { id: newId(), ...workflowRow(ctx, workflowFields(def)), created_at: now, updated_at: now };
  return ctx.rows.workflow(
    await uniqueName(ctx, def.name, () => ctx.db.insertInto('baton_workflows').values(row).returningAll().executeTakeFirstOrThrow()),
  );
}

export async function getWorkflow(ctx: Ctx, id: string): Promise<Workflow> {
  const row = await ctx.db.selectFrom('baton_workflows').selectAll().where('id', '=', idParam(ctx, id)).executeTakeFirst();
  if (!row) throw new NotFoundError('workflow', id);
  return ctx.rows.workflow(row);
}

export async function findWorkflow(ctx: Ctx, name: string): Promise<Workflow | null> {
  const row = await ctx.db.selectFrom('baton_workflows').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? ctx.rows.workflow(row) : null;
}

/**
 * Reads, patches by core's patch rule (`patchWorkflow`), writes: one transaction.
 * A resume (`workflowResumed`) tells every worker, in the same transaction.
 */
export async function updateWorkflow(ctx: Ctx, id: string, patch: WorkflowPatch): Promise<Workflow> {
  return ctx.tx(async (ctx) => {
    const before = await getWorkflow(ctx, id);
    const fields = patchWorkflow(before, patch);
    await uniqueName(ctx, fields.name, () =>
      ctx.db
        .updateTable('baton_workflows')
        .set({ ...workflowRow(ctx, fields), updated_at: bumped(nowMs()) })
        .where('id', '=', id)
        .execute(),
    );
    if (workflowResumed(before, fields)) await ctx.dialect.notifyTasksReady?.(ctx.db);
    return getWorkflow(ctx, id);
  });
}

export async function listWorkflows(ctx: Ctx, options: PageOptions & { status?: WorkflowStatus }): Promise<Page<Workflow>> {
  const limit = options.limit ?? DEFAULT_PAGE;
  const after = decodeCursor(options.cursor, 1);
  let q = ctx.db
    .selectFrom('baton_workflows')
    .selectAll()
    .orderBy('id')
    .limit(limit + 1);
  if (options.status) q = q.where('status', '=', options.status);
  if (after) q = q.where('id', '>', idParam(ctx, String(after[0])));
  return toPage(await q.execute(), limit, ctx.rows.workflow, (r) => [r.id]);
}
