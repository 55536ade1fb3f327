import type { Block, ConfigEntry, Payload, Run, Session, Task, ToolExecution, Workflow } from '@baton/core';
import type { LogRecord, RecordOf } from './codec.js';

/**
 * In-memory records: the models with times as epoch milliseconds (cheap to
 * compare and sort), plus the few internal fields a store needs. Their types
 * come from the file schemas (`codec.ts`, one zod schema per kind); the
 * checks below keep each equal to its core model, so a field added to a model
 * and not to its schema (or the reverse) fails the build.
 */

export type WorkflowRec = RecordOf<'workflows'>;
export type RunRec = RecordOf<'runs'>;
export type TaskRec = RecordOf<'tasks'>;
export type BlockRec = RecordOf<'blocks'>;
export type PayloadRec = RecordOf<'payloads'>;
export type ConfigRec = RecordOf<'config'>;
export type SessionRec = RecordOf<'sessions'>;
export type ToolExecutionRec = RecordOf<'tool-executions'>;
/** A run's step state, kept beside the run so that finishing a task touches two small files. */
type RunStepsRec = RecordOf<'run-steps'>;
export type StepState = RunStepsRec['steps'][number];
export type RateWindowRec = RecordOf<'rate-windows'>;
export type LogRec = LogRecord;

type Millis<T> = { [K in keyof T]: T[K] extends Date ? number : T[K] extends Date | null ? number | null : T[K] };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <A, B>(ok: Same<A, B>) => ok;
same<WorkflowRec, Millis<Workflow>>(true);
same<RunRec, Millis<Run> & { failureStatus: Run['status'] | null }>(true);
same<TaskRec, Millis<Task> & { position: number }>(true);
same<BlockRec, Millis<Block>>(true);
same<PayloadRec, Millis<Payload>>(true);
same<ConfigRec, Millis<ConfigEntry>>(true);
same<SessionRec, Millis<Session>>(true);
same<ToolExecutionRec, Millis<ToolExecution>>(true);

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
