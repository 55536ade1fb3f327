import type { ModelFormat } from '@baton/core';

/** A block as prompt assembly sees it: its text and its tags. */
export interface PromptBlock {
  title?: string;
  content: string;
  tags?: string[];
}

/** Blocks with this tag form the system prompt (where the format has one); the others, the user's turn. */
export const SYSTEM_TAG = 'system';

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

/** Splits blocks, in order, into system text and user text, each joined by blank lines. */
export function splitBlocks(blocks: readonly PromptBlock[]): { system: string; user: string } {
  const system: string[] = [];
  const user: string[] = [];
  for (const block of blocks) (block.tags?.includes(SYSTEM_TAG) ? system : user).push(block.content);
  return { system: system.join('\n\n'), user: user.join('\n\n') };
}

/**
 * Turns a payload's blocks, in order, into one prompt string in a model's
 * format (pure: no I/O). Blocks tagged `system` go to the format's system slot:
 *
 * - `default`: every block's content, joined by blank lines (system first).
 * - `mistral`: `[INST] {system}\n\n{user} [/INST]` (Mistral has no system slot).
 * - `llama`: Llama 2 chat, `<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST]`
 *   (without system blocks: `<s>[INST] {user} [/INST]`).
 * - `chatml`: `<|im_start|>system\n{system}<|im_end|>\n` (when there is one), then
 *   `<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n`.
 *
 * @example
 * assemblePrompt([{ content: 'Be terse.', tags: ['system'] }, { content: 'Name a colour.' }], 'chatml')
 * // '<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n'
 */
export function assemblePrompt(blocks: readonly PromptBlock[], format: ModelFormat = 'default'): string {
  const { system, user } = splitBlocks(blocks);
  switch (format) {
    case 'default':
      return [system, user].filter(Boolean).join('\n\n');
    case 'mistral':
      return `[INST] ${[system, user].filter(Boolean).join('\n\n')} [/INST]`;
    case 'llama':
      return system ? `<s>[INST] <<SYS>>\n${system}\n<</SYS>>\n\n${user} [/INST]` : `<s>[INST] ${user} [/INST]`;
    case 'chatml':
      return `${system ? `<|im_start|>system\n${system}<|im_end|>\n` : ''}<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
    default:
      throw new Error(`unknown model format "${String(format)}"`);
  }
}

/** The same blocks as chat messages, for chat APIs that apply the model's template themselves. */
export function chatMessages(blocks: readonly PromptBlock[]): ChatMessage[] {
  const { system, user } = splitBlocks(blocks);
  const messages: ChatMessage[] = [];
  if (system) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content: user });
  return messages;
}
