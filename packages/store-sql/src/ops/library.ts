import { NotFoundError, newId, type Block, type NewBlock, type NewPayload, type Page, type PageOptions, type Payload } from '@baton/core';
import { sql } from 'kysely';
import { DEFAULT_PAGE, bumped, decodeCursor, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';

const tagsColumn = (tags: string[]) => (tags.length ? `,${tags.join(',')},` : '');
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function createBlock(ctx: Ctx, input: NewBlock): Promise<Block> {
  const now = nowMs();
  const row = {
    id: newId(),
    title: input.title,
    content: input.content ?? '',
    tags: tagsColumn(input.tags ?? []),
    folder_path: input.folderPath ?? null,
    created_at: now,
    updated_at: now,
  };
  return ctx.rows.block(await ctx.db.insertInto('baton_blocks').values(row).returningAll().executeTakeFirstOrThrow());
}

export async function getBlock(ctx: Ctx, id: string): Promise<Block> {
  const row = await ctx.db.selectFrom('baton_blocks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('block', id);
  return ctx.rows.block(row);
}

export async function updateBlock(ctx: Ctx, id: string, patch: Partial<NewBlock>): Promise<Block> {
  const result = await ctx.db
    .updateTable('baton_blocks')
    .set({
      ...(patch.title !== undefined && { title: patch.title }),
      ...(patch.content !== undefined && { content: patch.content }),
      ...(patch.tags !== undefined && { tags: tagsColumn(patch.tags) }),
      ...(patch.folderPath !== undefined && { folder_path: patch.folderPath }),
      updated_at: bumped(nowMs()),
    })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError('block', id);
  return getBlock(ctx, id);
}

export async function listBlocks(ctx: Ctx, options: PageOptions & { tag?: string; folderPath?: string }): Promise<Page<Block>> {
  const limit = options.limit ?? DEFAULT_PAGE;
  const after = decodeCursor(options.cursor, 2);
  let q = ctx.db.selectFrom('baton_blocks').selectAll().orderBy('title').orderBy('id').limit(limit + 1);
  if (options.tag) q = q.where(sql<boolean>`tags like ${`%,${likeEscape(options.tag)},%`} escape '\\'`);
  if (options.folderPath) q = q.where('folder_path', '=', options.folderPath);
  if (after) {
    const [title, id] = after.map(String) as [string, string];
    q = q.where((eb) => eb.or([eb('title', '>', title), eb.and([eb('title', '=', title), eb('id', '>', id)])]));
  }
  return toPage(await q.execute(), limit, ctx.rows.block, (r) => [r.title, r.id]);
}

export async function deleteBlock(ctx: Ctx, id: string): Promise<void> {
  const result = await ctx.db.deleteFrom('baton_blocks').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError('block', id);
}

export async function createPayload(ctx: Ctx, input: NewPayload): Promise<Payload> {
  const now = nowMs();
  const row = {
    id: newId(),
    name: input.name,
    blocks: ctx.dialect.encodeJson(input.blocks ?? []),
    temperature: input.temperature ?? 0.6,
    response_length: input.responseLength ?? 1000,
    llm_port: input.llmPort ?? 5001,
    model_format: input.modelFormat ?? 'default',
    created_at: now,
    updated_at: now,
  };
  return ctx.rows.payload(await ctx.db.insertInto('baton_payloads').values(row).returningAll().executeTakeFirstOrThrow());
}

export async function getPayload(ctx: Ctx, id: string): Promise<Payload> {
  const row = await ctx.db.selectFrom('baton_payloads').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('payload', id);
  return ctx.rows.payload(row);
}

export async function updatePayload(ctx: Ctx, id: string, patch: Partial<NewPayload>): Promise<Payload> {
  const result = await ctx.db
    .updateTable('baton_payloads')
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.blocks !== undefined && { blocks: ctx.dialect.encodeJson(patch.blocks) }),
      ...(patch.temperature !== undefined && { temperature: patch.temperature }),
      ...(patch.responseLength !== undefined && { response_length: patch.responseLength }),
      ...(patch.llmPort !== undefined && { llm_port: patch.llmPort }),
      ...(patch.modelFormat !== undefined && { model_format: patch.modelFormat }),
      updated_at: bumped(nowMs()),
    })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError('payload', id);
  return getPayload(ctx, id);
}

export async function listPayloads(ctx: Ctx, options: PageOptions): Promise<Page<Payload>> {
  const limit = options.limit ?? DEFAULT_PAGE;
  const after = decodeCursor(options.cursor, 1);
  let q = ctx.db.selectFrom('baton_payloads').selectAll().orderBy('id').limit(limit + 1);
  if (after) q = q.where('id', '>', String(after[0]));
  return toPage(await q.execute(), limit, ctx.rows.payload, (r) => [r.id]);
}

export async function deletePayload(ctx: Ctx, id: string): Promise<void> {
  const result = await ctx.db.deleteFrom('baton_payloads').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError('payload', id);
}
