import type {
  Block,
  ConfigEntry,
  ConfigValueType,
  ConnectionType,
  Json,
  Log,
  LogType,
  ModelFormat,
  Payload,
  Run,
  RunStatus,
  Session,
  Task,
  TaskStatus,
  ToolExecution,
  ToolExecutionStatus,
  TriggeredBy,
  Workflow,
  WorkflowDefinition,
  WorkflowStatus,
} from '@baton/core';
import type { SqlDialect } from './dialect.js';
import type {
  BlockTable,
  ConfigTable,
  LogTable,
  PayloadTable,
  RunTable,
  SessionTable,
  TaskTable,
  ToolExecutionTable,
  WorkflowTable,
} from './schema.js';

/** Row → model conversions. Drivers differ (BIGINT as string, jsonb parsed), so every value goes through one of these. */
export class Rows {
  constructor(private readonly dialect: SqlDialect) {}

  json = <T = Json>(value: unknown): T => this.dialect.decodeJson(value) as T;
  jsonOrNull = <T = Json>(value: unknown): T | null => (value === null || value === undefined ? null : this.json<T>(value));

  workflow = (row: WorkflowTable): Workflow => {
    const def = this.json<Partial<WorkflowDefinition>>(row.definition);
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      status: row.status as WorkflowStatus,
      executor: row.executor,
      steps: def.steps ?? [],
      schedules: def.schedules ?? [],
      metadata: def.metadata ?? {},
      ...(def.timeoutMs !== undefined && { timeoutMs: def.timeoutMs }),
      ...(def.retry !== undefined && { retry: def.retry }),
      ...(def.priority !== undefined && { priority: def.priority }),
      ...(def.concurrency !== undefined && { concurrency: def.concurrency }),
      ...(def.rateLimit !== undefined && { rateLimit: def.rateLimit }),
      createdAt: date(row.created_at),
      updatedAt: date(row.updated_at),
    };
  };

  run = (row: RunTable): Run => ({
    id: row.id,
    workflowId: row.workflow_id,
    workflowName: row.workflow_name,
    status: row.status as RunStatus,
    inputs: this.json(row.inputs),
    triggeredBy: row.triggered_by as TriggeredBy,
    idempotencyKey: row.idempotency_key,
    error: row.error,
    tasksTotal: Number(row.tasks_total),
    tasksFinished: Number(row.tasks_finished),
    tasksFailed: Number(row.tasks_failed),
    metadata: this.json(row.metadata),
    startedAt: dateOrNull(row.started_at),
    finishedAt: dateOrNull(row.finished_at),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  });

  task = (row: TaskTable): Task => ({
    id: row.id,
    runId: row.run_id,
    workflowId: row.workflow_id,
    stepName: row.step_name,
    taskIndex: Number(row.task_index),
    taskCount: Number(row.task_count),
    status: row.status as TaskStatus,
    params: this.json(row.params),
    output: this.jsonOrNull(row.output),
    error: row.error,
    executionName: row.execution_name,
    priority: Number(row.priority),
    runAt: date(row.run_at),
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    leaseId: row.lease_id,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: dateOrNull(row.lease_expires_at),
    metadata: this.json(row.metadata),
    workspace: row.workspace,
    concurrencyLimit: row.concurrency_key === null ? null : { key: row.concurrency_key, limit: Number(row.concurrency_limit) },
    rateLimit: row.rate_key === null ? null : { key: row.rate_key, limit: Number(row.rate_limit), periodMs: Number(row.rate_period_ms) },
    dispatchedAt: dateOrNull(row.dispatched_at),
    startedAt: dateOrNull(row.started_at),
    finishedAt: dateOrNull(row.finished_at),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  });

  log = (row: Omit<LogTable, 'id'> & { id: number | string }): Log => ({
    id: Number(row.id),
    runId: row.run_id,
    taskId: row.task_id,
    type: row.type as LogType,
    content: row.content,
    createdAt: date(row.created_at),
  });

  block = (row: BlockTable): Block => ({
    id: row.id,
    title: row.title,
    content: row.content,
    tags: row.tags.split(',').filter(Boolean),
    folderPath: row.folder_path,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  });

  payload = (row: PayloadTable): Payload => ({
    id: row.id,
    name: row.name,
    blocks: this.json(row.blocks),
    temperature: Number(row.temperature),
    responseLength: Number(row.response_length),
    llmPort: Number(row.llm_port),
    modelFormat: row.model_format as ModelFormat,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  });

  config = (row: ConfigTable): ConfigEntry => ({
    key: row.key,
    value: this.json(row.value),
    valueType: row.value_type as ConfigValueType,
    description: row.description,
    isSecret: Number(row.is_secret) === 1,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  });

  session = (row: SessionTable): Session => ({
    id: row.id,
    clientId: row.client_id,
    userId: row.user_id,
    connectionType: row.connection_type as ConnectionType,
    isActive: Number(row.is_active) === 1,
    metadata: this.json(row.metadata),
    lastHeartbeat: date(row.last_heartbeat),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  });

  toolExecution = (row: ToolExecutionTable): ToolExecution => ({
    id: row.id,
    taskId: row.task_id,
    runId: row.run_id,
    toolName: row.tool_name,
    arguments: this.json(row.arguments),
    output: this.jsonOrNull(row.output),
    status: row.status as ToolExecutionStatus,
    error: row.error,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    createdAt: date(row.created_at),
    completedAt: dateOrNull(row.completed_at),
  });
}

const date = (ms: number | string): Date => new Date(Number(ms));
const dateOrNull = (ms: number | string | null): Date | null => (ms === null ? null : new Date(Number(ms)));
export const nowMs = (): number => Date.now();
