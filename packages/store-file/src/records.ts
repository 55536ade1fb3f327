import type { Block, ConfigEntry, Payload, Run, RunStatus, Session, Task, ToolExecution, Workflow } from '@baton/core';

/**
 * In-memory records: the models with times as epoch milliseconds (cheap to
 * compare and sort), plus the few internal fields a store needs. On disk the
 * same fields are written with times as ISO strings (see `codec.ts`).
 */

type Millis<T> = { [K in keyof T]: T[K] extends Date ? number : T[K] extends Date | null ? number | null : T[K] };

export type WorkflowRec = Millis<Workflow>;
export type RunRec = Millis<Run> & {
  /** The run status its first failing task decided; null while everything succeeded. */
  failureStatus: RunStatus | null;
};
export type TaskRec = Millis<Task> & {
  /** The step's position in the definition, for plan order. */
  position: number;
};
export type BlockRec = Millis<Block>;
export type PayloadRec = Millis<Payload>;
export type ConfigRec = Millis<ConfigEntry>;
export type SessionRec = Millis<Session>;
export type ToolExecutionRec = Millis<ToolExecution>;

/** A run's step state, kept beside the run so that finishing a task touches two small files. */
export interface StepState {
  name: string;
  position: number;
  taskCount: number;
  /** Tasks of the step that succeeded. */
  succeeded: number;
  /** Upstream steps that have not yet succeeded entirely. */
  depsRemaining: number;
  dependsOn: string[];
  dependents: string[];
  downstream: string[];
}

export interface RunStepsRec {
  runId: string;
  steps: StepState[];
}

/** One appended batch of a run's logs. */
export interface LogRec {
  id: number;
  taskId: string | null;
  type: string;
  content: string;
  createdAt: number;
}

/** A rate-limit key's sliding window: the times of its claims younger than its period. */
export interface RateWindowRec {
  key: string;
  claims: number[];
}

export interface RecByKind {
  workflows: WorkflowRec;
  runs: RunRec;
  'run-steps': RunStepsRec;
  tasks: TaskRec;
  blocks: BlockRec;
  payloads: PayloadRec;
  config: ConfigRec;
  sessions: SessionRec;
  'tool-executions': ToolExecutionRec;
  'rate-windows': RateWindowRec;
}
