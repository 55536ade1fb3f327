import { z } from 'zod';
import type { TaskModule } from './task.js';

/** Runs on a cron schedule. */
export const heartbeat: TaskModule = {
  slug: 'heartbeat',
  description: 'Records that the service is alive, every few seconds',
  inputs: z.object({ source: z.string().default('cron') }),
  schedule: { cron: process.env.HEARTBEAT_CRON ?? '*/2 * * * * *', inputs: { source: 'cron' } },
  async run(ctx, { source }) {
    ctx.success(`alive (${source})`);
    return { at: new Date().toISOString() };
  },
};
