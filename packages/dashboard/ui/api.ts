/** The dashboard's JSON API, relative to the page (which the server serves at its base path). */

export interface Session {
  canAct: boolean;
  csrfToken: string | null;
  hasScheduler: boolean;
  store: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Step {
  name: string;
  executor?: string;
  dependsOn?: string[];
  taskCount?: number;
  title?: string;
}

export interface Workflow {
  id: string;
  name: string;
  description: string | null;
  status: 'draft' | 'active' | 'paused' | 'archived';
  executor: string | null;
  steps: Step[];
  schedules: { name?: string; cron: string; timezone?: string; nextFire: string | null }[];
  inputSchema: JsonSchema | null;
  counts?: { [status: string]: number };
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: { [key: string]: JsonSchema };
  required?: string[];
  enum?: Json[];
  default?: Json;
}

export interface Run {
  id: string;
  workflowId: string;
  workflowName: string;
  status: string;
  inputs: { [key: string]: Json };
  triggeredBy: string;
  error: string | null;
  tasksTotal: number;
  tasksFinished: number;
  tasksFailed: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  createdAt: string;
}

export interface Task {
  id: string;
  stepName: string;
  taskIndex: number;
  taskCount: number;
  status: string;
  output: Json;
  error: string | null;
  executionName: string | null;
  attempt: number;
  maxAttempts: number;
  leaseOwner: string | null;
  dispatchedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Log {
  id: number;
  taskId: string | null;
  type: string;
  content: string;
  createdAt: string;
}

export interface ToolExecution {
  id: string;
  taskId: string | null;
  toolName: string;
  arguments: Json;
  output: Json;
  status: string;
  error: string | null;
  durationMs: number | null;
  createdAt: string;
}

export interface ConfigEntry {
  key: string;
  valueType: string;
  description: string | null;
  isSecret: boolean;
  value?: Json;
  updatedAt: string;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function parse<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({ error: `HTTP ${response.status}` }))) as { error?: string };
  if (!response.ok) throw new ApiError(response.status, body.error ?? `HTTP ${response.status}`);
  return body as T;
}

export async function get<T>(path: string, params: { [key: string]: string | null | undefined } = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
  const qs = query.toString();
  return parse<T>(await fetch(`api${path}${qs ? `?${qs}` : ''}`, { credentials: 'same-origin' }));
}

let csrfToken: string | null = null;
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return parse<T>(
    await fetch(`api${path}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-baton-csrf': csrfToken ?? '' },
      body: JSON.stringify(body),
    }),
  );
}
