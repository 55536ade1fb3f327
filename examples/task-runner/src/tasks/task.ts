import type { TaskContext } from '@baton/core';
import type { z } from 'zod';

/** Microlight's task module: a slug, an input schema, and what it does. */
export interface TaskModule<S extends z.ZodType = z.ZodType> {
  slug: string;
  description: string;
  inputs: S;
  /** Ends the run as `timeout` past this. */
  timeoutMs?: number;
  /** A cron schedule that triggers it with `triggeredBy: 'schedule'`. */
  schedule?: { cron: string; inputs: z.input<S> };
  run(ctx: TaskContext, inputs: z.output<S>): Promise<unknown>;
}
