import { EventEmitter } from 'node:events';
import type { FinishedRun } from '../store.js';
import type { Run, Task, TaskStatus } from '../models.js';

/** Lifecycle events a host can react to. Payloads never carry secret config values. */
export interface BatonEvents {
  /** A run was created by `trigger` or a schedule on this instance. */
  'run:created': [run: Run];
  /**
   * A claim made on this instance moved the run from pending to running (the
   * store's answer, `ClaimedTask.runStarted`, or `MarkOutcome.runStarted` when
   * the claim did not start it): once per run across every worker. A retried
   * run that had started does not start again.
   */
  'run:started': [event: { runId: string; workflowName: string }];
  /** A run finished through a task ending on this instance, or was cancelled here. */
  'run:finished': [event: FinishedRun & { workflowName?: string }];
  /** A finished run was retried through `retry` on this instance: its failed tasks are due again. */
  'run:retried': [run: Run];
  'task:started': [task: Task];
  /** An attempt failed and the task will run again at `retryAt`. */
  'task:retrying': [event: { task: Task; error: string; retryAt: Date }];
  'task:finished': [event: { task: Task; status: TaskStatus; error?: string }];
  /** The store refused this worker's write: its lease expired and another worker may hold the task. */
  'lease:lost': [event: { task: Task }];
  'schedule:fired': [event: { workflowName: string; schedule: string; at: Date; runId: string; created: boolean }];
  /** A background failure (a claim, a heartbeat) that Baton retries on its own. */
  error: [error: Error];
}

export class BatonEmitter extends EventEmitter<BatonEvents> {}
