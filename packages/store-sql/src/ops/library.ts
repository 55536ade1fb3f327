import { NotFoundError } from '@baton/core';
import { blockChanges, blockFields, newId, payloadChanges, payloadFields } from '@baton/core/store-kit';
import type { Block, BlockPatch, NewBlock, NewPayload, Page, PageOptions, Payload, PayloadPatch } from '@baton/core';
import type { Fields } from '@baton/core/store-kit';
import { sql } from 'kysely';
import { DEFAULT_PAGE, bumped, decodeCursor, toPage, type Ctx } from '../context.js';
import { nowMs } from '../rows.js';
import type { BlockTable, PayloadTable } from '../schema.js';

const tagsColumn = (tags: string[]) => (tags.length ? `,${tags.join(',')},` : '');
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function createBlock(ctx: Ctx, input: NewBlock): Promise<Block> {
  const now = nowMs();
  const row = { id: newId(), ...blockRow(blockFields(input)), created_at: now, updated_at: now };
  return ctx.rows.block(await ctx.db.insertInto('baton_blocks').values(row).returningAll().executeTakeFirstOrThrow());
}

export async function getBlock(ctx: Ctx, id: string): Promise<Block> {
  const row = await ctx.db.selectFrom('baton_blocks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('block', id);
  return ctx.rows.block(row);
}

type BlockColumns = Pick<BlockTable, 'title' | 'content' | 'tags' | 'folder_path'>;
type PayloadColumns = Pick<PayloadTable, 'name' | 'blocks' | 'temperature' | 'response_length' | 'llm_port' | 'model_format'>;

/** The columns of a block's fields: all of them, or those a patch changes. */
function blockRow(b: Fields<Block>): BlockColumns;
function blockRow(b: Partial<Fields<Block>>): Partial<BlockColumns>;
function blockRow(b: Partial<Fields<Block>>): Partial<BlockColumns> {
  return {
    ...(b.title !== undefined && { title: b.title }),
    ...(b.content !== undefined && { content: b.content }),
    ...(b.tags !== undefined && { tags: tagsColumn(b.tags) }),
    ...(b.folderPath !== undefined && { folder_path: b.folderPath }),
  };
}

/** One guarded statement: core's patch rule (`blockChanges`) decides what changes. */
export async function updateBlock(ctx: Ctx, id: string, patch: BlockPatch): Promise<Block> {
  const result = await ctx.db
    .updateTable('baton_blocks')
    .set({ ...blockRow(blockChanges(patch)), updated_at: bumped(nowMs()) })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError('block', id);
  return getBlock(ctx, id);
}

export async function listBlocks(ctx: Ctx, options: PageOptions & { tag?: string; folderPath?: string }): Promise<Page<Block>> {
  const limit = options.limit ?? DEFAULT_PAGE;
  const after = decodeCursor(options.cursor, 2);
  let q = ctx.db
    .selectFrom('baton_blocks')
    .selectAll()
    .orderBy('title')
    .orderBy('id')
    .limit(limit + 1);
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
  const row = { id: newId(), ...payloadRow(ctx, payloadFields(input)), created_at: now, updated_at: now };
  return ctx.rows.payload(await ctx.db.insertInto('baton_payloads').values(row).returningAll().executeTakeFirstOrThrow());
}

export async function getPayload(ctx: Ctx, id: string): Promise<Payload> {
  const row = await ctx.db.selectFrom('baton_payloads').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('payload', id);
  return ctx.rows.payload(row);
}

/** The columns of a payload's fields: all of them, or those a patch changes. */
function payloadRow(ctx: Ctx, p: Fields<Payload>): PayloadColumns;
function payloadRow(ctx: Ctx, p: Partial<Fields<Payload>>): Partial<PayloadColumns>;
function payloadRow(ctx: Ctx, p: Partial<Fields<Payload>>): Partial<PayloadColumns> {
  return {
    ...(p.name !== undefined && { name: p.name }),
    ...(p.blocks !== undefined && { blocks: ctx.dialect.encodeJson(p.blocks) }),
    ...(p.temperature !== undefined && { temperature: p.temperature }),
    ...(p.responseLength !== undefined && { response_length: p.responseLength }),
    ...(p.llmPort !== undefined && { llm_port: p.llmPort }),
    ...(p.modelFormat !== undefined && { model_format: p.modelFormat }),
  };
}

/** One guarded statement: core's patch rule (`payloadChanges`) decides what changes. */
export async function updatePayload(ctx: Ctx, id: string, patch: PayloadPatch): Promise<Payload> {
  const result = await ctx.db
    .updateTable('baton_payloads')
    .set({ ...payloadRow(ctx, payloadChanges(patch)), updated_at: bumped(nowMs()) })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError('payload', id);
  return getPayload(ctx, id);
}

export async function listPayloads(ctx: Ctx, options: PageOptions): Promise<Page<Payload>> {
  const limit = options.limit ?? DEFAULT_PAGE;
  const after = decodeCursor(options.cursor, 1);
  let q = ctx.db
    .selectFrom('baton_payloads')
    .selectAll()
    .orderBy('id')
    .limit(limit + 1);
  if (after) q = q.where('id', '>', String(after[0]));
  return toPage(await q.execute(), limit, ctx.rows.payload, (r) => [r.id]);
}

export async function deletePayload(ctx: Ctx, id: string): Promise<void> {
  const result = await ctx.db.deleteFrom('baton_payloads').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError('payload', id);
}
