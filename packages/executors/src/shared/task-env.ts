import type { Json, TaskContext } from '@baton/core';

/** Reads `{ VARIABLE: 'config.key' }` from the config store into environment variables. */
export async function envFromConfig(ctx: TaskContext, mapping: Record<string, string> | undefined): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [variable, key] of Object.entries(mapping ?? {})) env[variable] = asText(await ctx.config(key));
  return env;
}

/** The variables every task sees, wherever it runs (process, Cloud Run): Ork's TASK_INDEX / TASK_COUNT and Baton's ids. */
export function taskEnv(ctx: TaskContext): Record<string, string> {
  return {
    TASK_INDEX: String(ctx.taskIndex),
    TASK_COUNT: String(ctx.taskCount),
    BATON_RUN_ID: ctx.run.id,
    BATON_TASK_ID: ctx.task.id,
    BATON_ATTEMPT: String(ctx.attempt),
    BATON_WORKFLOW: ctx.workflow.name,
    BATON_STEP: ctx.task.stepName,
  };
}

const asText = (value: Json) => (typeof value === 'string' ? value : JSON.stringify(value));
