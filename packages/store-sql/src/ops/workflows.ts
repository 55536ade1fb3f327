import { ConflictError, NotFoundError, newId, validateDefinition, type Page, type PageOptions, type Workflow, type WorkflowDefinition, type WorkflowPatch, type WorkflowStatus } from '@baton/core';
import { DEFAULT_PAGE, bumped, decodeCursor, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';

/** The parts of a definition kept in the `definition` JSON column. */
function definitionJson(def: Partial<WorkflowDefinition>) {
  return {
    steps: def.steps,
    schedules: def.schedules ?? [],
    metadata: def.metadata ?? {},
    timeoutMs: def.timeoutMs,
    retry: def.retry,
    priority: def.priority,
    concurrency: def.concurrency,
    rateLimit: def.rateLimit,
  };
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
  const row = {
    id: newId(),
    name: def.name,
    description: def.description ?? null,
    status: def.status ?? 'active',
    executor: def.executor ?? null,
    definition: ctx.dialect.encodeJson(definitionJson(def)),
    created_at: now,
    updated_at: now,
  };
  return ctx.rows.workflow(await uniqueName(ctx, def.name, () => ctx.db.insertInto('baton_workflows').values(row).returningAll().executeTakeFirstOrThrow()));
}

export async function getWorkflow(ctx: Ctx, id: string): Promise<Workflow> {
  const row = await ctx.db.selectFrom('baton_workflows').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('workflow', id);
  return ctx.rows.workflow(row);
}

export async function findWorkflow(ctx: Ctx, name: string): Promise<Workflow | null> {
  const row = await ctx.db.selectFrom('baton_workflows').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? ctx.rows.workflow(row) : null;
}

export async function updateWorkflow(ctx: Ctx, id: string, patch: WorkflowPatch): Promise<Workflow> {
  return ctx.tx(async (ctx) => {
    const current = await getWorkflow(ctx, id);
    const merged: WorkflowDefinition = { ...current, ...patch } as WorkflowDefinition;
    validateDefinition(stripRecord(merged));
    await uniqueName(ctx, merged.name, () =>
      ctx.db
        .updateTable('baton_workflows')
        .set({
          name: merged.name,
          description: merged.description ?? null,
          status: merged.status ?? 'active',
          executor: merged.executor ?? null,
          definition: ctx.dialect.encodeJson(definitionJson(merged)),
          updated_at: bumped(nowMs()),
        })
        .where('id', '=', id)
        .execute(),
    );
    return getWorkflow(ctx, id);
  });
}

/** A stored workflow as a definition again (drops ids and timestamps). */
function stripRecord(w: WorkflowDefinition & Partial<Workflow>): WorkflowDefinition {
  const { id: _id, createdAt: _c, updatedAt: _u, ...def } = w;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def)) if (v !== null && v !== undefined) out[k] = v;
  return out as unknown as WorkflowDefinition;
}

export async function listWorkflows(ctx: Ctx, options: PageOptions & { status?: WorkflowStatus }): Promise<Page<Workflow>> {
  const limit = options.limit ?? DEFAULT_PAGE;
  const after = decodeCursor(options.cursor, 1);
  let q = ctx.db.selectFrom('baton_workflows').selectAll().orderBy('id').limit(limit + 1);
  if (options.status) q = q.where('status', '=', options.status);
  if (after) q = q.where('id', '>', String(after[0]));
  return toPage(await q.execute(), limit, ctx.rows.workflow, (r) => [r.id]);
}
