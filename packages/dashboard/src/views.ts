import { Cron } from 'croner';
import type { ConfigEntry, Json, RunCounts, Workflow } from '@baton/core';

/** What the browser gets of a config entry: a secret's value never leaves the server, whatever its type. */
export function configView(entry: ConfigEntry) {
  return {
    key: entry.key,
    valueType: entry.valueType,
    description: entry.description,
    isSecret: entry.isSecret,
    ...(entry.isSecret ? {} : { value: entry.value }),
    updatedAt: entry.updatedAt,
  };
}

/** The next fire of a cron schedule, or null when it has none (or the expression is bad). */
function nextFire(cron: string, timezone = 'UTC'): Date | null {
  try {
    return new Cron(cron, { timezone, paused: true }).nextRun() ?? null;
  } catch {
    return null;
  }
}

/** A JSON Schema of the run inputs, kept by hosts in `metadata.inputSchema`; null when none. */
function inputSchemaOf(workflow: Workflow): { [key: string]: Json } | null {
  const schema = workflow.metadata.inputSchema;
  return schema && typeof schema === 'object' && !Array.isArray(schema) ? schema : null;
}

export function workflowView(workflow: Workflow, counts?: RunCounts) {
  return {
    ...workflow,
    inputSchema: inputSchemaOf(workflow),
    schedules: workflow.schedules.map((s) => ({ ...s, nextFire: workflow.status === 'active' ? nextFire(s.cron, s.timezone) : null })),
    ...(counts && { counts }),
  };
}
