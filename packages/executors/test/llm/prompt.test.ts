import { describe, expect, it } from 'vitest';
import { assemblePrompt, chatMessages, renderTemplate, TemplateError, type TemplateValues } from '../../src/llm/index.js';

const system = { content: 'You are terse.', tags: ['system'] };
const a = { content: 'First block.', tags: ['intro'] };
const b = { content: 'Second block.' };

describe('assemblePrompt', () => {
  it('joins blocks by blank lines in the default format, system text first', () => {
    expect(assemblePrompt([a, b])).toBe('First block.\n\nSecond block.');
    expect(assemblePrompt([a, system, b], 'default')).toBe('You are terse.\n\nFirst block.\n\nSecond block.');
  });

  it('wraps the prompt for mistral', () => {
    expect(assemblePrompt([a, b], 'mistral')).toBe('[INST] First block.\n\nSecond block. [/INST]');
    expect(assemblePrompt([system, a], 'mistral')).toBe('[INST] You are terse.\n\nFirst block. [/INST]');
  });

  it('uses the llama 2 chat template, with a <<SYS>> section only when there are system blocks', () => {
    expect(assemblePrompt([a, b], 'llama')).toBe('<s>[INST] First block.\n\nSecond block. [/INST]');
    expect(assemblePrompt([a, system, b], 'llama')).toBe(
      '<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nFirst block.\n\nSecond block. [/INST]',
    );
  });

  it('uses chatml turns and leaves the assistant turn open', () => {
    expect(assemblePrompt([a], 'chatml')).toBe('<|im_start|>user\nFirst block.<|im_end|>\n<|im_start|>assistant\n');
    expect(assemblePrompt([system, a, b], 'chatml')).toBe(
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nFirst block.\n\nSecond block.<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('refuses an unknown format', () => {
    expect(() => assemblePrompt([a], 'alpaca' as never)).toThrow(/unknown model format "alpaca"/);
  });

  it('gives chat messages for chat APIs', () => {
    expect(chatMessages([a, system, b])).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'First block.\n\nSecond block.' },
    ]);
    expect(chatMessages([a])).toEqual([{ role: 'user', content: 'First block.' }]);
  });
});

describe('renderTemplate', () => {
  const values: TemplateValues = {
    inputs: { topic: 'owls', opts: { depth: 2, tags: ['a', 'b'] } },
    params: { n: 3 },
    upstream: {
      outline: [{ text: 'An outline.', model: null }],
      facts: ['fact one', { text: 'fact two' }],
      count: [42],
    },
    previousStep: 'outline',
  };

  it('fills inputs, params and upstream responses', () => {
    expect(renderTemplate('Write about {{input.topic}} in {{ params.n }} parts.', values)).toBe('Write about owls in 3 parts.');
    expect(renderTemplate('{{inputs.opts.depth}} {{input.opts.tags}} {{input.opts}}', values)).toBe(
      '2 ["a","b"] {"depth":2,"tags":["a","b"]}',
    );
    expect(renderTemplate('Improve: {{previous}}', values)).toBe('Improve: An outline.');
    expect(renderTemplate('{{steps.facts}}|{{steps.count}}|{{previous.text}}', values)).toBe('fact one\n\nfact two|42|An outline.');
  });

  it('leaves other braces alone', () => {
    expect(renderTemplate('JSON like {{"a": 1}} and {{ unknown.thing }} stay', values)).toBe(
      'JSON like {{"a": 1}} and {{ unknown.thing }} stay',
    );
  });

  it('fails on a placeholder that names nothing', () => {
    expect(() => renderTemplate('{{input.missing}}', values)).toThrow(TemplateError);
    expect(() => renderTemplate('{{input.missing}}', values)).toThrow('{{input.missing}}: no value at "missing"');
    expect(() => renderTemplate('{{steps.other}}', values)).toThrow('"other" is not a step this one depends on');
    expect(() => renderTemplate('{{previous}}', { ...values, previousStep: undefined })).toThrow('this step depends on no other step');
  });

  it('never resolves a placeholder through the prototype: only JSON data fills a prompt', () => {
    for (const placeholder of [
      '{{input.constructor}}',
      '{{input.__proto__}}',
      '{{input.toString}}',
      '{{params.hasOwnProperty}}',
      '{{input.opts.constructor}}',
      '{{input.opts.tags.length}}',
      '{{input.opts.tags.5}}',
      '{{steps.constructor}}',
      '{{previous.constructor}}',
    ]) {
      expect(() => renderTemplate(placeholder, values), placeholder).toThrow(TemplateError);
    }
    expect(renderTemplate('{{input.opts.tags.1}}', values)).toBe('b');
  });
});
