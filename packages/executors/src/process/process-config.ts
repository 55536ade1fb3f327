import {
  fail,
  optionalBoolean,
  optionalInt,
  optionalString,
  optionalStringArray,
  optionalStringRecord,
  rejectUnknown,
  type StepConfig,
} from '../shared/config-fields.js';

/**
 * A process step's `config`. Give `command` (with `args`), or `jobName`: Ork's
 * script name, resolved against the executor's `scriptsDir`.
 *
 * @example
 * { command: 'python3', args: ['etl.py', '--day', 'today'], cwd: 'jobs', env: { MODE: 'full' } }
 * { jobName: 'example-task.sh' }
 */
export interface ProcessStepConfig {
  /** The program to run (found on PATH unless it contains a slash). */
  command?: string;
  /** Its arguments, passed as-is (no shell) unless `shell` is true. */
  args?: string[];
  /** Run `command` through `/bin/sh -c`. @defaultValue false */
  shell?: boolean;
  /** Ork's `job_name`: an executable script under the executor's `scriptsDir`. */
  jobName?: string;
  /** Working directory, relative to the executor's `cwd`. @defaultValue the task's workspace, else the executor's cwd */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Environment variables read from the config store: `{ API_TOKEN: 'service.token' }`. Never logged. */
  envFromConfig?: Record<string, string>;
  /** SIGTERM → SIGKILL grace period for this step, in ms. */
  graceMs?: number;
}

export const PROCESS_CONFIG_FIELDS = ['command', 'args', 'shell', 'jobName', 'cwd', 'env', 'envFromConfig', 'graceMs'] as const;

export function parseProcessConfig(config: StepConfig): ProcessStepConfig {
  const what = 'process step config';
  rejectUnknown(what, config, PROCESS_CONFIG_FIELDS);
  const parsed: ProcessStepConfig = {
    command: optionalString(what, config, 'command'),
    args: optionalStringArray(what, config, 'args'),
    shell: optionalBoolean(what, config, 'shell'),
    jobName: optionalString(what, config, 'jobName'),
    cwd: optionalString(what, config, 'cwd'),
    env: optionalStringRecord(what, config, 'env'),
    envFromConfig: optionalStringRecord(what, config, 'envFromConfig'),
    graceMs: optionalInt(what, config, 'graceMs', 0, 3_600_000),
  };
  if (parsed.command === undefined && parsed.jobName === undefined) fail(what, 'command', 'give command or jobName');
  if (parsed.command !== undefined && parsed.jobName !== undefined) fail(what, 'jobName', 'give command or jobName, not both');
  if (parsed.jobName !== undefined && parsed.args !== undefined) fail(what, 'args', 'args go with command, not jobName');
  if (parsed.jobName !== undefined && !isInsideName(parsed.jobName)) {
    fail(what, 'jobName', 'must be a script path inside scriptsDir: relative, without ".." segments');
  }
  for (const key of [...Object.keys(parsed.env ?? {}), ...Object.keys(parsed.envFromConfig ?? {})]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) fail(what, `env.${key}`, 'is not a valid environment variable name');
  }
  return parsed;
}

/** `etl/run.sh` yes; `/bin/sh`, `../x.sh`, `a/../../x.sh`, `` no: a job name cannot leave `scriptsDir`. */
function isInsideName(name: string): boolean {
  if (name === '' || name.includes('\0') || name.startsWith('/') || name.startsWith('\\')) return false;
  return name.split(/[\\/]/).every((segment) => segment !== '..' && segment !== '');
}
