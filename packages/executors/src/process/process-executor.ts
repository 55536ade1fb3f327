export { RESULT_MARKER } from './output-collector.js';
export type { ProcessStepConfig } from './process-config.js';
export { liveProcessGroups } from './live-groups.js';
import { envFromConfig, taskEnv } from '../shared/task-env.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import { ExecutorError, type Executor, type Json, type TaskContext } from '@baton/core';
import { abortError } from '../shared/abort.js';
import { OutputCollector, type OutputLimits } from './output-collector.js';
import { parseProcessConfig, type ProcessStepConfig } from './process-config.js';
import { track, untrack } from './live-groups.js';
import { SUPERVISOR_SOURCE, type SupervisorMessage, type SupervisorSpec } from './supervisor-source.js';

export interface ProcessExecutorOptions extends Partial<OutputLimits> {
  /** The name steps use. @defaultValue 'process' */
  name?: string;
  /** Base directory of relative step `cwd`s. @defaultValue process.cwd() */
  cwd?: string;
  /** Where `jobName` scripts live. @defaultValue the executor's cwd */
  scriptsDir?: string;
  /** Pass the worker's environment to children. @defaultValue true */
  inheritEnv?: boolean;
  /** Environment variables for every child (steps' `env` override them). */
  env?: Record<string, string>;
  /** Time between SIGTERM and SIGKILL when an attempt is aborted. @defaultValue 5000 */
  graceMs?: number;
  /** How often a supervisor checks that the worker is still alive. @defaultValue 1000 */
  parentPollMs?: number;
}

/** BATON_PARAMS is left out above this size (read stdin instead): env strings are limited (128 KiB on Linux). */
export const MAX_PARAMS_ENV_BYTES = 64 * 1024;

const DEFAULT_LIMITS: OutputLimits = {
  maxLineBytes: 8 * 1024,
  maxLogBytes: 8 * 1024 * 1024,
  maxResultBytes: 1024 * 1024,
  stderrTailBytes: 2 * 1024,
};

/**
 * Runs each task as a child process (Ork's process executor). The child gets
 * `TASK_INDEX`, `TASK_COUNT`, `BATON_RUN_ID`, `BATON_TASK_ID`, `BATON_ATTEMPT`
 * and `BATON_PARAMS` (JSON; also written to its stdin). Its stdout lines are
 * logged as `log`, stderr lines as `error`, as they come. Exit code 0 is
 * success; a stdout line `::baton-result:: <json>` becomes the output.
 * Otherwise the attempt fails with the exit code and the tail of stderr.
 *
 * Each child runs in its own process group under a small supervisor whose pid
 * is the task's `executionName`; abort, worker shutdown and worker death all
 * end the whole group (SIGTERM, then SIGKILL after `graceMs`).
 *
 * @example
 * const baton = createBaton({ store, executors: [processExecutor({ scriptsDir: './jobs' })] });
 * baton.defineWorkflow({ name: 'nightly', executor: 'process',
 *   steps: [{ name: 'etl', taskCount: 5, config: { jobName: 'example-task.sh' } }] });
 */
export function processExecutor(options: ProcessExecutorOptions = {}): Executor {
  const cwd = resolve(options.cwd ?? process.cwd());
  const settings: Settings = {
    name: options.name ?? 'process',
    cwd,
    scriptsDir: resolve(cwd, options.scriptsDir ?? '.'),
    inheritEnv: options.inheritEnv ?? true,
    env: options.env ?? {},
    graceMs: options.graceMs ?? 5000,
    parentPollMs: options.parentPollMs ?? 1000,
    limits: {
      maxLineBytes: options.maxLineBytes ?? DEFAULT_LIMITS.maxLineBytes,
      maxLogBytes: options.maxLogBytes ?? DEFAULT_LIMITS.maxLogBytes,
      maxResultBytes: options.maxResultBytes ?? DEFAULT_LIMITS.maxResultBytes,
      stderrTailBytes: options.stderrTailBytes ?? DEFAULT_LIMITS.stderrTailBytes,
    },
  };
  return Object.freeze({
    name: settings.name,
    reportsStart: true,
    validateConfig: (config: { [key: string]: Json }) => void parseProcessConfig(config),
    execute: (ctx: TaskContext) => runProcess(ctx, settings),
  });
}

interface Settings {
  name: string;
  cwd: string;
  scriptsDir: string;
  inheritEnv: boolean;
  env: Record<string, string>;
  graceMs: number;
  parentPollMs: number;
  limits: OutputLimits;
}

/** Belt and braces after the config check: the resolved script must sit under `scriptsDir`. */
function scriptPath(settings: Settings, jobName: string): string {
  const path = resolve(settings.scriptsDir, jobName);
  if (!path.startsWith(settings.scriptsDir + sep))
    throw new ExecutorError(settings.name, `jobName "${jobName}" resolves outside scriptsDir`);
  return path;
}

async function runProcess(ctx: TaskContext, settings: Settings): Promise<Json | void> {
  const config = parseProcessConfig(ctx.step.step.config ?? {});
  if (ctx.signal.aborted) throw abortError(settings.name, ctx.signal);
  const command = config.jobName !== undefined ? scriptPath(settings, config.jobName) : config.command!;
  const cwd = resolve(settings.cwd, config.cwd ?? ctx.task.workspace ?? '.');
  if (!(await isDirectory(cwd))) throw new ExecutorError(settings.name, `working directory ${cwd} does not exist`);
  const spec: SupervisorSpec = {
    command,
    args: config.args ?? [],
    cwd,
    shell: config.shell ?? false,
    env: await buildEnv(ctx, config, settings),
    graceMs: config.graceMs ?? settings.graceMs,
    pollMs: settings.parentPollMs,
  };
  const output = new OutputCollector(ctx, settings.limits);
  const ended = await supervise(ctx, spec, output, settings);
  output.finish();
  if (ctx.signal.aborted) throw abortError(settings.name, ctx.signal);
  const { message } = ended;
  if (message?.type === 'error') throw new ExecutorError(settings.name, `could not start ${basename(command)}: ${message.message}`);
  if (message?.type !== 'exit') {
    throw failure(
      settings.name,
      `supervisor of ${basename(command)} ended without a report (${describeEnd(ended.code, ended.signal)})`,
      output,
    );
  }
  if (message.code !== 0) throw failure(settings.name, `${basename(command)} ${describeEnd(message.code, message.signal)}`, output);
  if (output.resultError) throw new ExecutorError(settings.name, output.resultError);
  return output.result?.value;
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  message: Exclude<SupervisorMessage, { type: 'started' }> | undefined;
}

/** Spawns the supervisor and resolves once it, its group and its pipes are done. */
function supervise(ctx: TaskContext, spec: SupervisorSpec, output: OutputCollector, settings: Settings): Promise<Ended> {
  return new Promise((resolveEnded, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['-e', SUPERVISOR_SOURCE], { detached: true, stdio: ['pipe', 'pipe', 'pipe', 'ipc'], env: {} });
    } catch (error) {
      reject(new ExecutorError(settings.name, `could not start the supervisor: ${(error as Error).message}`, { cause: error }));
      return;
    }
    track(child);
    let message: Ended['message'];
    let backstop: NodeJS.Timeout | undefined;
    let pending = 2; // 'close' and 'disconnect': the last IPC message may arrive after 'exit'
    let closedWith: Pick<Ended, 'code' | 'signal'> = { code: null, signal: null };

    const onAbort = () => {
      signalPid(child.pid, 'SIGTERM');
      // The supervisor escalates to SIGKILL itself; this covers a supervisor that cannot.
      backstop = setTimeout(() => signalPid(child.pid === undefined ? undefined : -child.pid, 'SIGKILL'), spec.graceMs + 2000);
    };
    const settle = () => {
      if (--pending > 0) return;
      untrack(child);
      clearTimeout(backstop);
      ctx.signal.removeEventListener('abort', onAbort);
      resolveEnded({ ...closedWith, message });
    };

    child.on('error', (error) => {
      untrack(child);
      ctx.signal.removeEventListener('abort', onAbort);
      reject(new ExecutorError(settings.name, `could not start the supervisor: ${error.message}`, { cause: error }));
    });
    child.on('message', (m: SupervisorMessage) => {
      if (m.type === 'started') {
        const executionName = String(child.pid);
        ctx.log(`started ${basename(spec.command)} (process group ${executionName})`);
        ctx.started(executionName).catch((error: unknown) => ctx.warn(`could not record the start: ${(error as Error).message}`));
      } else {
        message = m;
      }
    });
    child.once('disconnect', settle);
    child.once('close', (code, signal) => {
      closedWith = { code, signal };
      settle();
    });
    child.stdout!.on('data', (chunk: Buffer) => output.stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => output.stderr.push(chunk));
    // A child that never reads stdin closes it early: EPIPE is expected, not a failure.
    child.stdin!.on('error', () => {});
    child.send(spec);
    child.stdin!.end(`${JSON.stringify(ctx.params)}\n`);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    if (ctx.signal.aborted) onAbort();
  });
}

async function buildEnv(ctx: TaskContext, config: ProcessStepConfig, settings: Settings): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  if (settings.inheritEnv) {
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  }
  Object.assign(env, settings.env, config.env, await envFromConfig(ctx, config.envFromConfig), taskEnv(ctx));
  const params = JSON.stringify(ctx.params);
  if (Buffer.byteLength(params) <= MAX_PARAMS_ENV_BYTES) env.BATON_PARAMS = params;
  else delete env.BATON_PARAMS;
  return env;
}

function failure(executor: string, what: string, output: OutputCollector): ExecutorError {
  const tail = output.stderrTail();
  return new ExecutorError(executor, tail ? `${what}: ${tail}` : what);
}

function describeEnd(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

function signalPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
