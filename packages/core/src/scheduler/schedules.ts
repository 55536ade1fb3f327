import { Cron } from 'croner';
import type { ScheduleDefinition, Workflow } from '../models.js';
import type { Store } from '../store.js';
import type { BatonEmitter } from './events.js';

/**
 * Cron schedules of the workflows this instance defined. Every fire becomes
 * `createRun` with the idempotency key `schedule:<name>:<fire time>`, so any
 * number of schedulers on one store create one run per fire.
 *
 * Catch-up: with `catchUp: 'run-last'`, starting a scheduler triggers the most
 * recent fire before now (once, whoever starts first); with `'skip'` (the
 * default) fires missed while no scheduler ran are dropped.
 */
export class Schedules {
  #jobs: Cron[] = [];

  constructor(
    private readonly store: Store,
    private readonly emitter: BatonEmitter,
    private readonly onCreated: () => void,
    private readonly log: (level: 'warn' | 'error', message: string, error?: unknown) => void,
    private readonly emitError: (error: unknown) => void,
  ) {}

  start(workflows: Workflow[]): void {
    this.stop();
    for (const workflow of workflows) {
      for (const schedule of workflow.schedules) {
        const job = new Cron(schedule.cron, { timezone: schedule.timezone ?? 'UTC', protect: true }, () => {
          const at = job.currentRun();
          if (at) void this.fire(workflow, schedule, at);
        });
        this.#jobs.push(job);
        if (schedule.catchUp === 'run-last') {
          const last = job.previousRuns(1, new Date())[0];
          if (last) void this.fire(workflow, schedule, last);
        }
      }
    }
  }

  stop(): void {
    for (const job of this.#jobs) job.stop();
    this.#jobs = [];
  }

  async fire(workflow: Workflow, schedule: ScheduleDefinition, at: Date): Promise<void> {
    const name = schedule.name ?? schedule.cron;
    // Croner fires within a few ms of the second; the key uses the whole second so every scheduler agrees.
    const second = new Date(Math.round(at.getTime() / 1000) * 1000);
    try {
      // Paused, draft and archived workflows skip their fires rather than pile up runs.
      if ((await this.store.getWorkflow(workflow.id)).status !== 'active') return;
      const { run, created } = await this.store.createRun({
        workflowId: workflow.id,
        inputs: schedule.inputs ?? {},
        triggeredBy: 'schedule',
        idempotencyKey: `schedule:${name}:${second.toISOString()}`,
      });
      if (created) {
        this.emitter.emit('run:created', run);
        this.onCreated();
      }
      this.emitter.emit('schedule:fired', { workflowName: workflow.name, schedule: name, at: second, runId: run.id, created });
    } catch (error) {
      this.emitError(error);
      this.log('warn', `schedule "${name}" of workflow "${workflow.name}" could not trigger a run`, error);
    }
  }
}
