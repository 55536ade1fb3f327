import { NotFoundError } from '@baton/core';
import { blockChanges, blockFields, newId, payloadChanges, payloadFields } from '@baton/core/store-kit';
import type { Block, BlockPatch, NewBlock, NewPayload, Page, PageOptions, Payload, PayloadPatch } from '@baton/core';
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
  const rec: BlockRec = { id: newId(), ...cloneJson(blockFields(input)), createdAt: now, updatedAt: now };
  u.put('blocks', rec);
  return blockModel(rec);
}

/** Core's patch rule (`blockChanges`) decides what changes. */
export function updateBlock(u: Unit, id: string, patch: BlockPatch): Block {
  const current = blockRec(u.state, id);
  const rec: BlockRec = { ...current, ...cloneJson(blockChanges(patch)), updatedAt: bumped(current.updatedAt, Date.now()) };
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
  const rec: PayloadRec = { id: newId(), ...cloneJson(payloadFields(input)), createdAt: now, updatedAt: now };
  u.put('payloads', rec);
  return payloadModel(rec);
}

/** Core's patch rule (`payloadChanges`) decides what changes. */
export function updatePayload(u: Unit, id: string, patch: PayloadPatch): Payload {
  const current = payloadRec(u.state, id);
  const rec: PayloadRec = { ...current, ...cloneJson(payloadChanges(patch)), updatedAt: bumped(current.updatedAt, Date.now()) };
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
