import { NotFoundError, type Block, type Payload, type ReadOnlyStore } from '@baton/core';

/** Finds a payload by id, or by name when only a name is given (the first by creation order). */
export async function findPayload(store: ReadOnlyStore, ref: { payloadId?: string; payload?: string }): Promise<Payload> {
  if (ref.payloadId !== undefined) return store.getPayload(ref.payloadId);
  let cursor: string | null = null;
  do {
    const page = await store.listPayloads({ limit: 1000, cursor });
    const found = page.items.find((p) => p.name === ref.payload);
    if (found) return found;
    cursor = page.nextCursor;
  } while (cursor);
  throw new NotFoundError('payload', ref.payload ?? '');
}

/**
 * A payload's blocks in payload order: a `{blockId}` ref is that block, a
 * `{tag}` ref every block with the tag, by title (the store's order). A block
 * deleted since fails with NotFoundError; `onEmptyTag` hears of tags that
 * matched nothing.
 */
export async function resolveBlocks(store: ReadOnlyStore, payload: Payload, onEmptyTag?: (tag: string) => void): Promise<Block[]> {
  const blocks: Block[] = [];
  for (const ref of payload.blocks) {
    if ('blockId' in ref) {
      blocks.push(await store.getBlock(ref.blockId));
      continue;
    }
    const before = blocks.length;
    let cursor: string | null = null;
    do {
      const page = await store.listBlocks({ tag: ref.tag, limit: 1000, cursor });
      blocks.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    if (blocks.length === before) onEmptyTag?.(ref.tag);
  }
  return blocks;
}
