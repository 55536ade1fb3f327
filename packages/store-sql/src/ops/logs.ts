import type { Log, NewLog, Page, PageOptions } from '@baton/core';
import { DEFAULT_PAGE, decodeCursor, idParam, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';

const CHUNK = 1000;

/** One multi-row INSERT per chunk; the auto-increment id is the execution order. */
export async function appendLogs(ctx: Ctx, logs: NewLog[]): Promise<void> {
  if (logs.length === 0) return;
  const now = nowMs();
  await ctx.tx(async (ctx) => {
    for (let i = 0; i < logs.length; i += CHUNK) {
      await ctx.db
        .insertInto('baton_logs')
        .values(
          logs
            .slice(i, i + CHUNK)
            .map((l) => ({ run_id: idParam(ctx, l.runId), task_id: l.taskId ?? null, type: l.type, content: l.content, created_at: now })),
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
