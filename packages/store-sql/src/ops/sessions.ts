import { NotFoundError, type ConnectionType, type NewSession, type Session } from '@baton/core';
import { newId } from '@baton/core/store-kit';
import { bumped, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';

export async function registerSession(ctx: Ctx, input: NewSession): Promise<Session> {
  const now = nowMs();
  const id = input.id ?? newId();
  const values = {
    client_id: input.clientId,
    user_id: input.userId ?? null,
    connection_type: input.connectionType,
    is_active: 1,
    metadata: ctx.dialect.encodeJson(input.metadata ?? {}),
    last_heartbeat: now,
  };
  await ctx.db
    .insertInto('baton_sessions')
    .values({ id, ...values, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ ...values, updated_at: now }))
    .execute();
  return getSession(ctx, id);
}

async function getSession(ctx: Ctx, id: string): Promise<Session> {
  const row = await ctx.db.selectFrom('baton_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('session', id);
  return ctx.rows.session(row);
}

export async function heartbeatSession(ctx: Ctx, id: string): Promise<Session> {
  const now = nowMs();
  const result = await ctx.db
    .updateTable('baton_sessions')
    .set({ is_active: 1, last_heartbeat: now, updated_at: bumped(now) })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError('session', id);
  return getSession(ctx, id);
}

export async function endSession(ctx: Ctx, id: string): Promise<void> {
  const result = await ctx.db
    .updateTable('baton_sessions')
    .set({ is_active: 0, updated_at: bumped(nowMs()) })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError('session', id);
}

export async function listSessions(ctx: Ctx, options: { activeOnly?: boolean }): Promise<Session[]> {
  let q = ctx.db.selectFrom('baton_sessions').selectAll().orderBy('last_heartbeat', 'desc').orderBy('id');
  if (options.activeOnly) q = q.where('is_active', '=', 1);
  return (await q.execute()).map(ctx.rows.session);
}

export async function expireSessions(ctx: Ctx, before: Date, options: { connectionType?: ConnectionType } = {}): Promise<number> {
  let q = ctx.db
    .updateTable('baton_sessions')
    .set({ is_active: 0, updated_at: bumped(nowMs()) })
    .where('is_active', '=', 1)
    .where('last_heartbeat', '<', before.getTime());
  if (options.connectionType) q = q.where('connection_type', '=', options.connectionType);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
