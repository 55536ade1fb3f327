import { NotFoundError, newId, type Block, type NewBlock, type NewPayload, type Page, type PageOptions, type Payload } from '@baton/core';
import { bumped, cloneJson, decodeCursor, takePage, where } from '../page.js';
import type { BlockRec, PayloadRec } from '../records.js';
import type { State } from '../state.js';
import { blockModel, payloadModel } from '../to-model.js';
import type { Unit } from '../unit.js';

function blockRec(state: State, id: string): BlockRec {
  const rec = state.get('blocks', id);
  if (!rec) throw new NotFoundError('block', id);
  return rec;
}

function payloadRec(state: State, id: string): PayloadRec {
  const rec = state.get('payloads', id);
  if (!rec) throw new NotFoundError('payload', id);
  return rec;
}

export function createBlock(u: Unit, input: NewBlock): Block {
  const now = Date.now();
  const rec: BlockRec = {
    id: newId(),
    title: input.title,
    content: input.content ?? '',
    tags: [...(input.tags ?? [])],
    folderPath: input.folderPath ?? null,
    createdAt: now,
    updatedAt: now,
  };
  u.put('blocks', rec);
  return blockModel(rec);
}

export function updateBlock(u: Unit, id: string, patch: Partial<NewBlock>): Block {
  const current = blockRec(u.state, id);
  const rec: BlockRec = {
    ...current,
    ...(patch.title !== undefined && { title: patch.title }),
    ...(patch.content !== undefined && { content: patch.content }),
    ...(patch.tags !== undefined && { tags: [...patch.tags] }),
    ...(patch.folderPath !== undefined && { folderPath: patch.folderPath }),
    updatedAt: bumped(current.updatedAt, Date.now()),
  };
  u.put('blocks', rec);
  return blockModel(rec);
}

export const getBlock = (state: State, id: string): Block => blockModel(blockRec(state, id));

/** By title, then id. */
export function listBlocks(state: State, options: PageOptions & { tag?: string; folderPath?: string }): Page<Block> {
  const after = decodeCursor(options.cursor, 2);
  const [title, id] = after ? (after.map(String) as [string, string]) : ['', ''];
  const recs = [...state.records.blocks.values()].sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : a.id < b.id ? -1 : 1));
  return takePage(
    where(
      recs,
      (b) =>
        (!options.tag || b.tags.includes(options.tag)) &&
        (!options.folderPath || b.folderPath === options.folderPath) &&
        (!after || b.title > title || (b.title === title && b.id > id)),
    ),
    options.limit,
    blockModel,
    (b) => [b.title, b.id],
  );
}

export function deleteBlock(u: Unit, id: string): void {
  blockRec(u.state, id);
  u.remove('blocks', id);
}

export function createPayload(u: Unit, input: NewPayload): Payload {
  const now = Date.now();
  const rec: PayloadRec = {
    id: newId(),
    name: input.name,
    blocks: cloneJson(input.blocks ?? []),
    temperature: input.temperature ?? 0.6,
    responseLength: input.responseLength ?? 1000,
    llmPort: input.llmPort ?? 5001,
    modelFormat: input.modelFormat ?? 'default',
    createdAt: now,
    updatedAt: now,
  };
  u.put('payloads', rec);
  return payloadModel(rec);
}

export function updatePayload(u: Unit, id: string, patch: Partial<NewPayload>): Payload {
  const current = payloadRec(u.state, id);
  const rec: PayloadRec = {
    ...current,
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.blocks !== undefined && { blocks: cloneJson(patch.blocks) }),
    ...(patch.temperature !== undefined && { temperature: patch.temperature }),
    ...(patch.responseLength !== undefined && { responseLength: patch.responseLength }),
    ...(patch.llmPort !== undefined && { llmPort: patch.llmPort }),
    ...(patch.modelFormat !== undefined && { modelFormat: patch.modelFormat }),
    updatedAt: bumped(current.updatedAt, Date.now()),
  };
  u.put('payloads', rec);
  return payloadModel(rec);
}

export const getPayload = (state: State, id: string): Payload => payloadModel(payloadRec(state, id));

export function listPayloads(state: State, options: PageOptions): Page<Payload> {
  const after = decodeCursor(options.cursor, 1);
  const recs = [...state.records.payloads.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return takePage(
    where(recs, (p) => !after || p.id > String(after[0])),
    options.limit,
    payloadModel,
    (p) => [p.id],
  );
}

export function deletePayload(u: Unit, id: string): void {
  payloadRec(u.state, id);
  u.remove('payloads', id);
}
