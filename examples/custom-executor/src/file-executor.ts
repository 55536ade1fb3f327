import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Executor, Json, TaskContext } from '@baton/core';

/**
 * A complete custom executor: appends each task's params as one JSON line to
 * the file its step names. Register it by name; steps pick it with
 * `executor: 'jsonl'` and `config: { path }`.
 */
export function jsonlExecutor(): Executor {
  return {
    name: 'jsonl',
    // Checked when a workflow is defined: a bad config never reaches a run.
    validateConfig(config) {
      if (typeof config.path !== 'string' || config.path === '') throw new Error('config.path must be a file path');
    },
    async execute(ctx: TaskContext): Promise<Json> {
      const path = ctx.step.step.config!.path as string;
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await mkdir(dirname(path), { recursive: true });
      const line = JSON.stringify({ task: ctx.task.id, index: ctx.taskIndex, params: ctx.params });
      await appendFile(path, `${line}\n`);
      ctx.info(`appended to ${path}`);
      return { path, bytes: line.length + 1 };
    },
  };
}
