import { Cron } from 'croner';
import { DefinitionError } from './errors.js';
import { checkKeyTemplate } from './limit-key.js';
import {
  DEFAULT_RETRY,
  type ConcurrencyLimit,
  type RateLimit,
  type RetryPolicy,
  type StepDefinition,
  type Workflow,
  type WorkflowDefinition,
} from './models.js';
import { parse, workflowDefinition } from './validation.js';

/**
 * Checks a workflow definition beyond its shape: unique step names, known
 * dependencies, no cycles, parseable cron expressions and time zones.
 * Returns the steps in a topological order (dependencies first, otherwise as defined).
 */
export function validateDefinition(input: WorkflowDefinition): WorkflowDefinition {
  const def = parse(workflowDefinition, input, 'workflow definition') as WorkflowDefinition;
  const steps = new Map<string, StepDefinition>();
  def.steps.forEach((step, i) => {
    if (steps.has(step.name)) throw new DefinitionError(def.name, `steps.${i}.name`, `duplicate step name "${step.name}"`);
    steps.set(step.name, step);
  });
  def.steps.forEach((step, i) => {
    for (const dep of step.dependsOn ?? []) {
      if (dep === step.name) throw new DefinitionError(def.name, `steps.${i}.dependsOn`, `step "${step.name}" depends on itself`);
      if (!steps.has(dep))
        throw new DefinitionError(def.name, `steps.${i}.dependsOn`, `step "${step.name}" depends on unknown step "${dep}"`);
    }
  });
  const checkLimits = (settings: Pick<StepDefinition, 'concurrency' | 'rateLimit'>, at: string) => {
    if (typeof settings.concurrency === 'object') checkKeyTemplate(def.name, `${at}concurrency.key`, settings.concurrency.key);
    if (settings.rateLimit) checkKeyTemplate(def.name, `${at}rateLimit.key`, settings.rateLimit.key);
  };
  checkLimits(def, '');
  def.steps.forEach((step, i) => checkLimits(step, `steps.${i}.`));
  const cycle = findCycle(def.steps);
  if (cycle) throw new DefinitionError(def.name, 'steps', `dependency cycle: ${cycle.join(' -> ')}`);
  const scheduleNames = new Set<string>();
  (def.schedules ?? []).forEach((schedule, i) => {
    const scheduleName = schedule.name ?? schedule.cron;
    if (scheduleNames.has(scheduleName)) throw new DefinitionError(def.name, `schedules.${i}.name`, `duplicate schedule "${scheduleName}"`);
    scheduleNames.add(scheduleName);
    try {
      new Cron(schedule.cron, { paused: true, timezone: schedule.timezone ?? 'UTC' }).stop();
    } catch (error) {
      throw new DefinitionError(def.name, `schedules.${i}.cron`, `invalid cron "${schedule.cron}": ${(error as Error).message}`);
    }
    if (schedule.timezone !== undefined && !isTimeZone(schedule.timezone)) {
      throw new DefinitionError(def.name, `schedules.${i}.timezone`, `unknown time zone "${schedule.timezone}"`);
    }
  });
  return def;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Depth-first search; returns the steps of one cycle, or null. */
function findCycle(steps: StepDefinition[]): string[] | null {
  const deps = new Map(steps.map((s) => [s.name, s.dependsOn ?? []]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'visiting') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'visiting');
    path.push(node);
    for (const dep of deps.get(node) ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const step of steps) {
    const found = visit(step.name);
    if (found) return found;
  }
  return null;
}

/** A step's settings after the workflow's defaults and Baton's are applied. */
export interface ResolvedStep {
  step: StepDefinition;
  executor: string | null;
  timeoutMs: number | null;
  retry: RetryPolicy;
  priority: number;
  /** The step's own per-process limit (the workflow's is applied per workflow). */
  concurrency: number | null;
  /** The cluster-wide limit: the step's, else the workflow's (shared by all its steps). Key not yet evaluated. */
  clusterConcurrency: ConcurrencyLimit | null;
  /** The step's rate limit, else the workflow's. Key not yet evaluated. */
  rateLimit: RateLimit | null;
}

export function resolveStep(
  workflow: Pick<Workflow, 'name' | 'steps' | 'executor' | 'timeoutMs' | 'retry' | 'priority' | 'concurrency' | 'rateLimit'>,
  stepName: string,
): ResolvedStep {
  const step = workflow.steps.find((s) => s.name === stepName);
  if (!step) throw new DefinitionError(workflow.name, 'steps', `no step named "${stepName}"`);
  return {
    step,
    executor: step.executor ?? workflow.executor ?? null,
    timeoutMs: step.timeoutMs ?? workflow.timeoutMs ?? null,
    retry: { ...DEFAULT_RETRY, ...workflow.retry, ...step.retry },
    priority: step.priority ?? workflow.priority ?? 0,
    concurrency: typeof step.concurrency === 'number' ? step.concurrency : null,
    clusterConcurrency:
      typeof step.concurrency === 'object' ? step.concurrency : typeof workflow.concurrency === 'object' ? workflow.concurrency : null,
    rateLimit: step.rateLimit ?? workflow.rateLimit ?? null,
  };
}

/** Delay before the retry that follows attempt `attempt` (1-based), with jitter. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.backoffFactor ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}
