import { envFromConfig, taskEnv } from '../shared/task-env.js';
import { ExecutorError, type Executor, type Json, type TaskContext } from '@baton/core';
import { abortError, sleep } from '../shared/abort.js';
import { Aborted } from '../shared/http-request.js';
import { CloudRunClient, type RunOverrides, type TokenProvider } from './cloud-run-client.js';
import { parseCloudRunConfig, type CloudRunStepConfig } from './cloud-run-config.js';
import { counts, executionOutput, failureMessage, isDone, isSuccess, type Execution } from './execution.js';
import { metadataServerTokenProvider } from './token-provider.js';

export type { CloudRunStepConfig } from './cloud-run-config.js';
export type { TokenProvider } from './cloud-run-client.js';
export { metadataServerTokenProvider, type MetadataTokenOptions } from './token-provider.js';

export interface CloudRunExecutorOptions {
  /** The name steps use. @defaultValue 'cloud-run' */
  name?: string;
  /** The Admin API's base URL. @defaultValue 'https://run.googleapis.com' */
  endpoint?: string;
  /** Access tokens for the API. @defaultValue metadataServerTokenProvider() */
  tokenProvider?: TokenProvider;
  /** Time between status polls. @defaultValue 5000 */
  pollIntervalMs?: number;
  /** Timeout of each API request. @defaultValue 30000 */
  requestTimeoutMs?: number;
  /** Polls that may fail in a row (network, 5xx) before the attempt fails. @defaultValue 5 */
  maxPollErrors?: number;
  /**
   * When a retried task's previous attempt left an execution (its
   * `executionName`): follow it if it still runs, return it if it succeeded,
   * and only start a new one if it failed. Needs a store that keeps a task's
   * `executionName` when it is claimed again. @defaultValue true
   */
  resume?: boolean;
}

/** Cloud Run limits an environment variable's value; BATON_PARAMS must fit. */
export const MAX_CLOUD_RUN_ENV_BYTES = 32 * 1024;

/**
 * Runs each task as one execution of a Cloud Run job (Admin API v2): `jobs.run`
 * with overrides (task count, timeout, args, env with `TASK_INDEX`,
 * `TASK_COUNT`, `BATON_RUN_ID`, `BATON_TASK_ID`, `BATON_ATTEMPT`,
 * `BATON_PARAMS`), records the execution's name as the task's
 * `executionName`, polls the execution until it completes, and cancels it when
 * the task is aborted (timeout, cancellation, shutdown, lost lease). Success returns the execution's counts; failure fails
 * the attempt with the execution's `Completed` condition message.
 *
 * @example
 * cloudRunExecutor({ tokenProvider: async () => myAuth.getAccessToken(), pollIntervalMs: 10_000 })
 * // step: { name: 'etl', executor: 'cloud-run', config: { project: 'acme', region: 'us-central1', job: 'etl', taskCount: 20 } }
 */
export function cloudRunExecutor(options: CloudRunExecutorOptions = {}): Executor {
  const name = options.name ?? 'cloud-run';
  const settings: Settings = {
    name,
    pollIntervalMs: options.pollIntervalMs ?? 5000,
    maxPollErrors: options.maxPollErrors ?? 5,
    resume: options.resume ?? true,
    client: new CloudRunClient({
      endpoint: options.endpoint ?? 'https://run.googleapis.com',
      tokenProvider: options.tokenProvider ?? metadataServerTokenProvider(),
      timeoutMs: options.requestTimeoutMs ?? 30_000,
      executor: name,
    }),
  };
  return Object.freeze({
    name,
    reportsStart: true,
    validateConfig: (config: { [key: string]: Json }) => void parseCloudRunConfig(config),
    execute: (ctx: TaskContext) => runExecution(ctx, parseCloudRunConfig(ctx.step.step.config ?? {}), settings),
  });
}

interface Settings {
  name: string;
  pollIntervalMs: number;
  maxPollErrors: number;
  resume: boolean;
  client: CloudRunClient;
}

async function runExecution(ctx: TaskContext, config: CloudRunStepConfig, settings: Settings): Promise<Json> {
  if (ctx.signal.aborted) throw abortError(settings.name, ctx.signal);
  const previous = settings.resume ? await previousExecution(ctx, settings) : undefined;
  if (previous && isDone(previous) && isSuccess(previous)) {
    ctx.info(`execution ${previous.name} of an earlier attempt succeeded; not running the job again`);
    return executionOutput(previous);
  }
  let executionName: string;
  if (previous && !isDone(previous)) {
    executionName = previous.name!;
    ctx.info(`following execution ${executionName}, started by an earlier attempt`);
  } else {
    const overrides = await buildOverrides(ctx, config, settings.name);
    // Not tied to ctx.signal: an abort mid-request could leave an execution we never learn of.
    const operation = await settings.client.run(config.project, config.region, config.job, overrides);
    const name = operation.metadata?.name;
    if (!name) throw new ExecutorError(settings.name, `run job ${config.job}: the answer names no execution`);
    executionName = name;
    ctx.info(`started execution ${executionName}`);
  }
  await ctx.started(executionName).catch((error: unknown) => ctx.warn(`could not record the start: ${(error as Error).message}`));
  return poll(ctx, executionName, config.pollIntervalMs ?? settings.pollIntervalMs, settings);
}

async function poll(ctx: TaskContext, executionName: string, intervalMs: number, settings: Settings): Promise<Json> {
  let errors = 0;
  let progress = '';
  for (;;) {
    await sleep(intervalMs, ctx.signal);
    if (ctx.signal.aborted) return cancel(ctx, executionName, settings);
    let execution: Execution;
    try {
      execution = await settings.client.get(executionName, ctx.signal);
    } catch (error) {
      if (error instanceof Aborted) return cancel(ctx, executionName, settings);
      if (++errors > settings.maxPollErrors) throw error;
      ctx.warn(`polling ${executionName} failed (${errors} of ${settings.maxPollErrors} allowed in a row): ${(error as Error).message}`);
      continue;
    }
    errors = 0;
    const now = `${execution.runningCount ?? 0} running, ${counts(execution)}`;
    if (now !== progress) ctx.log(`execution ${executionName}: ${(progress = now)}`);
    if (!isDone(execution)) continue;
    if (isSuccess(execution)) return executionOutput(execution);
    throw new ExecutorError(settings.name, `execution ${executionName} failed: ${failureMessage(execution)}`);
  }
}

async function cancel(ctx: TaskContext, executionName: string, settings: Settings): Promise<never> {
  try {
    await settings.client.cancel(executionName);
    ctx.warn(`cancelled execution ${executionName}`);
  } catch (error) {
    ctx.error(`could not cancel execution ${executionName}: ${(error as Error).message}`);
  }
  throw abortError(settings.name, ctx.signal);
}

/** The execution an earlier attempt of this task started, if it can still be read. */
async function previousExecution(ctx: TaskContext, settings: Settings): Promise<Execution | undefined> {
  const name = ctx.task.executionName;
  if (!name?.includes('/executions/')) return undefined;
  try {
    const execution = await settings.client.get(name, ctx.signal);
    return { ...execution, name: execution.name ?? name };
  } catch (error) {
    if (error instanceof Aborted) throw abortError(settings.name, ctx.signal);
    ctx.warn(`could not read execution ${name} of an earlier attempt, starting a new one: ${(error as Error).message}`);
    return undefined;
  }
}

async function buildOverrides(ctx: TaskContext, config: CloudRunStepConfig, executor: string): Promise<RunOverrides> {
  const params = JSON.stringify(ctx.params);
  if (Buffer.byteLength(params) > MAX_CLOUD_RUN_ENV_BYTES) {
    throw new ExecutorError(
      executor,
      `params are ${Buffer.byteLength(params)} bytes as JSON; BATON_PARAMS allows ${MAX_CLOUD_RUN_ENV_BYTES}`,
    );
  }
  const env: Record<string, string> = {
    ...config.env,
    ...(await envFromConfig(ctx, config.envFromConfig)),
    ...taskEnv(ctx),
    BATON_PARAMS: params,
  };
  const container: RunOverrides['containerOverrides'][number] = { env: Object.entries(env).map(([name, value]) => ({ name, value })) };
  if (config.container !== undefined) container.name = config.container;
  if (config.args !== undefined) container.args = config.args;
  const overrides: RunOverrides = { containerOverrides: [container] };
  if (config.taskCount !== undefined) overrides.taskCount = config.taskCount;
  if (config.timeoutSeconds !== undefined) overrides.timeout = `${config.timeoutSeconds}s`;
  return overrides;
}
