import { NotFoundError, type Log, type NewLog, type Page, type PageOptions } from '@baton/core';
import { DEFAULT_PAGE, decodeCursor, idParam, idParams, keyShared, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';

const CHUNK = 1000;

/**
 * One multi-row INSERT per chunk; the auto-increment id is the execution order.
 * The runs are read first (one read per chunk of distinct runs, by primary key):
 * a log for a run that does not exist is a NotFoundError naming it, as on the
 * file store, not the engine's foreign-key error, and nothing of the call is written.
 * On PostgreSQL that read is the only check (migration 009: no key checked row by row).
 */
export async function appendLogs(ctx: Ctx, logs: NewLog[]): Promise<void> {
  if (logs.length === 0) return;
  const now = nowMs();
  await ctx.tx(async (ctx) => {
    const runIds = [...new Set(logs.map((l) => l.runId))];
    const found = new Set<string>();
    for (let i = 0; i < runIds.length; i += CHUNK) {
      const chunk = idParams(ctx, runIds.slice(i, i + CHUNK));
      // A run deleted meanwhile waits for this transaction, then its logs go with it (migration 009).
      for (const row of await keyShared(ctx, ctx.db.selectFrom('baton_runs').select('id').where('id', 'in', chunk)).execute())
        found.add(row.id);
    }
    const missing = runIds.find((id) => !found.has(id));
    if (missing !== undefined) throw new NotFoundError('run', missing);
    for (let i = 0; i < logs.length; i += CHUNK) {
      await ctx.db
        .insertInto('baton_logs')
        .values(
          logs
            .slice(i, i + CHUNK)
            .map((l) => ({ run_id: l.runId, task_id: l.taskId ?? null, type: l.type, content: l.content, created_at: now })),
        )
        .execute();
    }
  });
}

export async function listLogs(ctx: Ctx, runId: string, options: PageOptions & { taskId?: string }): Promise<Page<Log>> {
  const limit = options.limit ?? DEFAULT_PAGE;
  const after = decodeCursor(options.cursor, 1);
  let q = ctx.db
    .selectFrom('baton_logs')
    .selectAll()
    .where('run_id', '=', idParam(ctx, runId))
    .orderBy('id')
    .limit(limit + 1);
  if (options.taskId) q = q.where('task_id', '=', options.taskId);
  if (after) q = q.where('id', '>', Number(after[0]));
  return toPage(await q.execute(), limit, ctx.rows.log, (r) => [Number(r.id)]);
}
