import { z } from 'zod';
import type { TaskModule } from './task.js';

/** Takes longer than its timeout when asked to, so its run ends as `timeout`. */
export const slow: TaskModule = {
  slug: 'slow',
  description: 'Sleeps for `ms`; its timeout is 300 ms',
  inputs: z.object({ ms: z.number().int().min(0).max(60_000) }),
  timeoutMs: 300,
  async run(ctx, { ms }) {
    ctx.info(`sleeping ${ms} ms`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return { slept: ms };
  },
};
