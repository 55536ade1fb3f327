import { NotFoundError, type ConfigEntry, type NewConfigEntry } from '@baton/core';
import { configFields } from '@baton/core/store-kit';
import type { Ctx } from '../context.js';
import { nowMs } from '../rows.js';

export async function setConfig(ctx: Ctx, entry: NewConfigEntry): Promise<ConfigEntry> {
  const now = nowMs();
  const c = configFields(entry);
  const values = {
    value: ctx.dialect.encodeJson(c.value),
    value_type: c.valueType,
    description: c.description,
    is_secret: c.isSecret ? 1 : 0,
  };
  await ctx.db
    .insertInto('baton_config')
    .values({ key: c.key, ...values, created_at: now, updated_at: now })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        ...values,
        updated_at: eb
          .case()
          .when('baton_config.updated_at', '>=', now)
          .then(eb('baton_config.updated_at', '+', 1))
          .else(now)
          .end(),
      })),
    )
    .execute();
  return getConfig(ctx, entry.key);
}

export async function getConfig(ctx: Ctx, key: string): Promise<ConfigEntry> {
  const row = await ctx.db.selectFrom('baton_config').selectAll().where('key', '=', key).executeTakeFirst();
  if (!row) throw new NotFoundError('config entry', key);
  return ctx.rows.config(row);
}

export async function listConfig(ctx: Ctx): Promise<ConfigEntry[]> {
  return (await ctx.db.selectFrom('baton_config').selectAll().orderBy('key').execute()).map(ctx.rows.config);
}

export async function deleteConfig(ctx: Ctx, key: string): Promise<void> {
  const result = await ctx.db.deleteFrom('baton_config').where('key', '=', key).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError('config entry', key);
}
