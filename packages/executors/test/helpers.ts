import { readdirSync, readFileSync } from 'node:fs';
import type { Json, LogType, Store, Task, TaskContext, Workflow } from '@baton/core';
import type { ResolvedStep } from '@baton/core/store-kit';
import { DEFAULT_RETRY, LOG_TYPES, NotFoundError } from '@baton/core';

/**
 * A TaskContext for calling `executor.execute` directly, as the scheduler
 * would, with everything it does recorded for assertions.
 */
export interface TestContext {
  ctx: TaskContext;
  logs: { type: LogType; content: string }[];
  started: string[];
  abort(reason?: unknown): void;
  /** Log lines of one type, in order. */
  lines(type: LogType): string[];
}

export interface ContextOptions {
  config?: { [key: string]: Json };
  params?: { [key: string]: Json };
  inputs?: { [key: string]: Json };
  upstream?: { [stepName: string]: (Json | null)[] };
  dependsOn?: string[];
  taskIndex?: number;
  taskCount?: number;
  attempt?: number;
  executionName?: string | null;
  workspace?: string | null;
  /** Values `ctx.config(key)` answers. */
  configStore?: { [key: string]: Json };
  store?: Partial<Store>;
  stepName?: string;
}

let counter = 0;

export function makeContext(options: ContextOptions = {}): TestContext {
  counter++;
  const now = new Date();
  const controller = new AbortController();
  const logs: TestContext['logs'] = [];
  const started: string[] = [];
  const stepName = options.stepName ?? 'step';
  const runId = `run-${counter}`;
  const step = { name: stepName, config: options.config ?? {}, dependsOn: options.dependsOn };
  const workflow: Workflow = {
    id: 'wf-1',
    name: 'test-workflow',
    description: null,
    status: 'active',
    executor: null,
    steps: [step],
    schedules: [],
    metadata: {},
    createdAt: now,
    updatedAt: now,
  };
  const task: Task = {
    id: `task-${counter}`,
    runId,
    workflowId: workflow.id,
    stepName,
    taskIndex: options.taskIndex ?? 0,
    taskCount: options.taskCount ?? 1,
    status: 'dispatched',
    params: options.params ?? {},
    output: null,
    error: null,
    executionName: options.executionName ?? null,
    priority: 0,
    runAt: now,
    attempt: options.attempt ?? 1,
    maxAttempts: 3,
    leaseId: 'lease-1',
    leaseOwner: 'worker-1',
    leaseExpiresAt: new Date(now.getTime() + 30_000),
    metadata: {},
    workspace: options.workspace ?? null,
    concurrencyLimit: null,
    rateLimit: null,
    dispatchedAt: now,
    startedAt: null,
    finishedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const resolved: ResolvedStep = {
    step,
    executor: null,
    timeoutMs: null,
    retry: { ...DEFAULT_RETRY },
    priority: 0,
    concurrency: null,
    clusterConcurrency: null,
    rateLimit: null,
  };
  const logApi = Object.fromEntries(
    LOG_TYPES.map((type) => [
      type,
      (content: unknown) => {
        logs.push({ type, content: typeof content === 'string' ? content : JSON.stringify(content) });
      },
    ]),
  ) as { [T in LogType]: (content: unknown) => void };
  const configStore = options.configStore ?? {};
  const ctx: TaskContext = {
    ...logApi,
    task,
    workflow,
    step: resolved,
    run: { id: runId, inputs: options.inputs ?? {}, triggeredBy: 'manual' },
    params: options.params ?? {},
    inputs: options.inputs ?? {},
    taskIndex: task.taskIndex,
    taskCount: task.taskCount,
    attempt: task.attempt,
    maxAttempts: task.maxAttempts,
    signal: controller.signal,
    upstream: options.upstream ?? {},
    store: (options.store ?? {}) as Store,
    heartbeat: async () => {},
    started: async (name?: string) => {
      started.push(name ?? '');
    },
    tool: async (_name, _args, fn) => fn(controller.signal),
    config: async (key: string) => {
      if (!(key in configStore)) throw new NotFoundError('config', key);
      return configStore[key]!;
    },
  };
  return {
    ctx,
    logs,
    started,
    abort: (reason?: unknown) => controller.abort(reason),
    lines: (type) => logs.filter((l) => l.type === type).map((l) => l.content),
  };
}

/**
 * Whether a process runs: it exists and is not a zombie (a killed child whose
 * parent died stays a zombie until init reaps it, and `kill(pid, 0)` still
 * succeeds on it).
 */
export function alive(pid: number): boolean {
  const state = procState(pid);
  return state !== null && state !== 'Z';
}

/** Pids of the live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push(Number(entry));
  }
  return members;
}

function procState(pid: number): string | null {
  return readStat(pid)?.state ?? null;
}

function readStat(pid: number): { state: string; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

/** Polls `check` until it holds or `timeoutMs` passes; returns its last answer. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
