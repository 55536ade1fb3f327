import type { Block, ConfigEntry, Payload, Run, Session, Task, ToolExecution, Workflow } from '@baton/core';
import { DATE_FIELDS, toModel } from './codec.js';
import type { BlockRec, ConfigRec, PayloadRec, RunRec, SessionRec, TaskRec, ToolExecutionRec, WorkflowRec } from './records.js';

/** Records out to callers: fresh objects with Dates, internal fields left out. */
export const workflowModel = (r: WorkflowRec): Workflow => toModel(r, DATE_FIELDS.workflows);
export const runModel = (r: RunRec): Run => toModel(r, DATE_FIELDS.runs, ['failureStatus']);
export const taskModel = (r: TaskRec): Task => toModel(r, DATE_FIELDS.tasks, ['position']);
export const blockModel = (r: BlockRec): Block => toModel(r, DATE_FIELDS.blocks);
export const payloadModel = (r: PayloadRec): Payload => toModel(r, DATE_FIELDS.payloads);
export const configModel = (r: ConfigRec): ConfigEntry => toModel(r, DATE_FIELDS.config);
export const sessionModel = (r: SessionRec): Session => toModel(r, DATE_FIELDS.sessions);
export const toolExecutionModel = (r: ToolExecutionRec): ToolExecution => toModel(r, DATE_FIELDS['tool-executions']);
