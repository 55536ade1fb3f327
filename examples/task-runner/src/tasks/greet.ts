import { z } from 'zod';
import type { TaskModule } from './task.js';

/** Logs one line of every Microlight log type. */
export const greet: TaskModule = {
  slug: 'greet',
  description: 'Greets someone, using every log type',
  inputs: z.object({ name: z.string().min(1), times: z.number().int().min(1).max(5).default(1) }),
  async run(ctx, { name, times }) {
    for (let i = 0; i < times; i++) ctx.log(`hello ${name} (${i + 1}/${times})`);
    ctx.info('info: greeting sent');
    ctx.json({ name, times });
    ctx.markdown(`**${name}** was greeted`);
    ctx.warn('warn: this is a demo');
    ctx.danger('danger: nothing is actually wrong');
    ctx.error('error: also just a demo');
    ctx.success(`greeted ${name}`);
    return { greeted: name, times };
  },
};
