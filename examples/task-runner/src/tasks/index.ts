import { greet } from './greet.js';
import { heartbeat } from './heartbeat.js';
import { slow } from './slow.js';
import type { TaskModule } from './task.js';

export const tasks: TaskModule[] = [greet, slow, heartbeat];
export type { TaskModule };
