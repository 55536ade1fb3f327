/**
 * Kysely table types shared by the SQL stores. Times are epoch milliseconds
 * (INTEGER in SQLite, BIGINT in PostgreSQL, where the driver may hand them back
 * as strings: rows.ts converts). JSON columns hold text in SQLite and jsonb in
 * PostgreSQL; the dialect decodes them. Booleans are 0/1 integers.
 */
import type { Generated } from 'kysely';

type Ms = number | string;
type JsonColumn = unknown;

export interface WorkflowTable {
  id: string;
  name: string;
  description: string | null;
  status: string;
  executor: string | null;
  definition: JsonColumn;
  created_at: Ms;
  updated_at: Ms;
}

export interface RunTable {
  id: string;
  workflow_id: string;
  workflow_name: string;
  status: string;
  inputs: JsonColumn;
  triggered_by: string;
  idempotency_key: string | null;
  error: string | null;
  failure_status: string | null;
  tasks_total: number;
  tasks_finished: number;
  tasks_failed: number;
  metadata: JsonColumn;
  started_at: Ms | null;
  finished_at: Ms | null;
  duration_ms: Ms | null;
  created_at: Ms;
  updated_at: Ms;
}

/** Per run and step: the counters that unblock dependents without scanning tasks. */
export interface RunStepTable {
  run_id: string;
  step_name: string;
  position: number;
  task_count: number;
  succeeded: number;
  /** Upstream steps not yet succeeded; the step's tasks wait while > 0. */
  deps_remaining: number;
  dependents: JsonColumn;
  downstream: JsonColumn;
}

export interface TaskTable {
  id: string;
  run_id: string;
  workflow_id: string;
  step_name: string;
  position: number;
  task_index: number;
  task_count: number;
  status: string;
  params: JsonColumn;
  output: JsonColumn | null;
  error: string | null;
  execution_name: string | null;
  priority: number;
  run_at: Ms;
  attempt: number;
  max_attempts: number;
  lease_id: string | null;
  lease_owner: string | null;
  lease_expires_at: Ms | null;
  metadata: JsonColumn;
  workspace: string | null;
  dispatched_at: Ms | null;
  started_at: Ms | null;
  finished_at: Ms | null;
  created_at: Ms;
  updated_at: Ms;
  /** Cluster-wide limits (migration 002), keys evaluated when planned; NULL: no limit. */
  concurrency_key: string | null;
  concurrency_limit: number | null;
  rate_key: string | null;
  rate_limit: number | null;
  rate_period_ms: Ms | null;
}

/** One row per limit key ever planned: what concurrent PostgreSQL claimers lock, in (kind, key) order. */
/** A run's tasks in order (migration 011): written once with the task, deleted with the run. */
export interface RunTaskTable {
  run_id: string;
  position: number;
  task_index: number;
  task_id: string;
}

export interface LimitKeyTable {
  kind: string;
  key: string;
}

/** The sliding window of a rate key: one row per claim, pruned once older than the key's period. */
export interface RateClaimTable {
  key: string;
  claimed_at: Ms;
}

export interface LogTable {
  id: Generated<number>;
  run_id: string;
  task_id: string | null;
  type: string;
  content: string;
  created_at: Ms;
}

export interface BlockTable {
  id: string;
  title: string;
  content: string;
  /** ",a,b," so that a tag matches with a portable LIKE '%,a,%'. */
  tags: string;
  folder_path: string | null;
  created_at: Ms;
  updated_at: Ms;
}

export interface PayloadTable {
  id: string;
  name: string;
  blocks: JsonColumn;
  temperature: number;
  response_length: number;
  llm_port: number;
  model_format: string;
  created_at: Ms;
  updated_at: Ms;
}

export interface ConfigTable {
  key: string;
  value: JsonColumn;
  value_type: string;
  description: string | null;
  is_secret: number;
  created_at: Ms;
  updated_at: Ms;
}

export interface SessionTable {
  id: string;
  client_id: string;
  user_id: string | null;
  connection_type: string;
  is_active: number;
  metadata: JsonColumn;
  last_heartbeat: Ms;
  created_at: Ms;
  updated_at: Ms;
}

export interface ToolExecutionTable {
  id: string;
  task_id: string | null;
  run_id: string | null;
  tool_name: string;
  arguments: JsonColumn;
  output: JsonColumn | null;
  status: string;
  error: string | null;
  duration_ms: Ms | null;
  created_at: Ms;
  completed_at: Ms | null;
}

export interface Database {
  baton_workflows: WorkflowTable;
  baton_runs: RunTable;
  baton_run_steps: RunStepTable;
  baton_tasks: TaskTable;
  baton_run_tasks: RunTaskTable;
  baton_logs: LogTable;
  baton_blocks: BlockTable;
  baton_payloads: PayloadTable;
  baton_config: ConfigTable;
  baton_sessions: SessionTable;
  baton_tool_executions: ToolExecutionTable;
  baton_limit_keys: LimitKeyTable;
  baton_rate_claims: RateClaimTable;
}
