import { v7 as uuidv7 } from 'uuid';
import { resolveStep } from './definition.js';
import { ValidationError } from './errors.js';
import { evaluateKey } from './limit-key.js';
import type { ConcurrencyLimit, Json, RateLimit, TaskStatus, Workflow } from './models.js';

/**
 * Turns a workflow and a trigger into the rows a store writes in one
 * transaction: one `PlannedStep` per step (its dependency counters) and one
 * `PlannedTask` per fanned-out task. Shared by every store so that a run looks
 * the same whatever holds it.
 */

export interface PlannedStep {
  name: string;
  /** Position in the definition, for plan order. */
  position: number;
  taskCount: number;
  /** Direct upstream steps. */
  dependsOn: string[];
  /** Direct downstream steps, unblocked when this one succeeds. */
  dependents: string[];
  /** Every step downstream, cancelled when this one fails. */
  downstream: string[];
}

export interface PlannedTask {
  id: string;
  stepName: string;
  taskIndex: number;
  taskCount: number;
  status: Extract<TaskStatus, 'waiting' | 'pending'>;
  params: { [key: string]: Json };
  priority: number;
  maxAttempts: number;
  metadata: { [key: string]: Json };
  workspace: string | null;
  /** With its key evaluated for this task. */
  concurrencyLimit: ConcurrencyLimit | null;
  /** With its key evaluated for this task. */
  rateLimit: RateLimit | null;
}

export interface RunPlan {
  steps: PlannedStep[];
  tasks: PlannedTask[];
}

export function newId(): string {
  return uuidv7();
}

/**
 * Whether any step counts against a cluster-wide limit: only then do a run's
 * tasks depend on its inputs (their keys), so a batch of runs of a workflow
 * without limits can share one plan.
 */
export function hasClusterLimits(workflow: Workflow): boolean {
  return workflow.steps.some((step) => {
    const resolved = resolveStep(workflow, step.name);
    return resolved.clusterConcurrency !== null || resolved.rateLimit !== null;
  });
}

/**
 * `inputs` are the run's: limit keys may name them. A key naming a value the
 * inputs or params lack is a ValidationError, raised before anything is written;
 * with `item` (the run's index in a `createRuns` call of many) its paths start
 * with that index ("3.inputs.tenant"), as the guard names a bad item.
 */
export function planRun(workflow: Workflow, inputs: { [key: string]: Json } = {}, item?: number): RunPlan {
  try {
    return plan(workflow, inputs);
  } catch (error) {
    if (item === undefined || !(error instanceof ValidationError)) throw error;
    throw error.under(String(item));
  }
}

function plan(workflow: Workflow, inputs: { [key: string]: Json }): RunPlan {
  const dependents = new Map<string, string[]>(workflow.steps.map((s) => [s.name, []]));
  for (const step of workflow.steps) for (const dep of step.dependsOn ?? []) dependents.get(dep)!.push(step.name);
  const downstreamOf = (name: string): string[] => {
    const seen = new Set<string>();
    const stack = [...dependents.get(name)!];
    while (stack.length) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...dependents.get(next)!);
    }
    return [...seen];
  };

  const steps: PlannedStep[] = [];
  const tasks: PlannedTask[] = [];
  workflow.steps.forEach((step, position) => {
    const resolved = resolveStep(workflow, step.name);
    const paramsList = step.paramsList ?? Array.from({ length: step.taskCount ?? 1 }, () => ({}));
    const taskCount = paramsList.length;
    steps.push({
      name: step.name,
      position,
      taskCount,
      dependsOn: step.dependsOn ?? [],
      dependents: dependents.get(step.name)!,
      downstream: downstreamOf(step.name),
    });
    const where = `step "${step.name}" of workflow "${workflow.name}"`;
    const cluster = resolved.clusterConcurrency;
    const rate = resolved.rateLimit;
    paramsList.forEach((extra, taskIndex) => {
      const params = { ...step.params, ...extra };
      const source = { inputs, params };
      tasks.push({
        id: newId(),
        stepName: step.name,
        taskIndex,
        taskCount,
        status: (step.dependsOn ?? []).length > 0 ? 'waiting' : 'pending',
        params,
        priority: resolved.priority,
        maxAttempts: resolved.retry.maxAttempts,
        metadata: step.metadata ?? {},
        workspace: step.workspace ?? null,
        concurrencyLimit: cluster && { key: evaluateKey(cluster.key, source, where), limit: cluster.limit },
        rateLimit: rate && { key: evaluateKey(rate.key, source, where), limit: rate.limit, periodMs: rate.periodMs },
      });
    });
  });
  return { steps, tasks };
}
