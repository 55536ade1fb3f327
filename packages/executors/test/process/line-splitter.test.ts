import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/process/line-splitter.js';

const split = (chunks: (string | Buffer)[], maxBytes = 100) => {
  const lines: [string, number][] = [];
  const splitter = new LineSplitter(maxBytes, (line, dropped) => lines.push([line, dropped]));
  for (const chunk of chunks) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  splitter.end();
  return lines;
};

describe('LineSplitter', () => {
  it('joins lines across chunks, strips CR and emits a last line without newline', () => {
    expect(split(['one\ntw', 'o\r\n', '\nthree'])).toEqual([
      ['one', 0],
      ['two', 0],
      ['', 0],
      ['three', 0],
    ]);
    expect(split(['done\n'])).toEqual([['done', 0]]);
  });

  it('decodes a multi-byte character split between chunks', () => {
    const owl = Buffer.from('🦉 hoots\n');
    expect(split([owl.subarray(0, 2), owl.subarray(2)])).toEqual([['🦉 hoots', 0]]);
  });

  it('keeps at most maxBytes of a line and counts the rest', () => {
    expect(split(['a'.repeat(30), 'b'.repeat(30), 'c\nnext\n'], 40)).toEqual([
      ['a'.repeat(30) + 'b'.repeat(10), 21],
      ['next', 0],
    ]);
  });
});
