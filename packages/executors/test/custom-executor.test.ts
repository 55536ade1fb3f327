import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefinitionError, ValidationError, type Executor } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { startBaton, tasksOf } from './baton.js';

// The README's "Writing your own executor", verbatim: if this test breaks, fix the guide too.
/** Writes each task's `text` param to `<dir>/<task id>.txt`. */
export function fileExecutor(): Executor {
  return {
    name: 'file',
    validateConfig(config) {
      if (typeof config.dir !== 'string' || config.dir === '') {
        throw new ValidationError('file step config', [{ path: 'dir', message: 'must be a non-empty string' }]);
      }
    },
    async execute(ctx) {
      const dir = ctx.step.step.config!.dir as string;
      const text = String(ctx.params.text ?? '');
      await mkdir(dir, { recursive: true });
      // Named by task id: a retried or recovered attempt overwrites, never duplicates.
      const path = join(dir, `${ctx.task.id}.txt`);
      await writeFile(path, text, { signal: ctx.signal });
      ctx.info(`wrote ${text.length} characters to ${path}`);
      return { path, bytes: Buffer.byteLength(text) };
    },
  };
}

describe('a custom executor', () => {
  it('is registered by name, validated when defined, and run by the scheduler', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-custom-'));
    try {
      const { baton, store } = await startBaton([fileExecutor()]);
      await expect(baton.defineWorkflow({ name: 'bad', steps: [{ name: 'save', executor: 'file', config: {} }] })).rejects.toThrow(
        ValidationError,
      );
      await expect(baton.defineWorkflow({ name: 'bad', steps: [{ name: 'save', executor: 'files' }] })).rejects.toThrow(DefinitionError);
      await baton.defineWorkflow({
        name: 'notes',
        steps: [{ name: 'save', executor: 'file', config: { dir }, paramsList: [{ text: 'first' }, { text: 'second' }] }],
      });
      const run = await baton.trigger('notes');
      expect((await baton.waitForRun(run.id)).status).toBe('success');
      const outputs = (await tasksOf(store, run.id)).map((t) => t.output as { path: string; bytes: number });
      expect(outputs.map((o) => o.bytes)).toEqual([5, 6]);
      expect(await Promise.all(outputs.map((o) => readFile(o.path, 'utf8')))).toEqual(['first', 'second']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
