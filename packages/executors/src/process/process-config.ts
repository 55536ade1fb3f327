import { z } from 'zod';
import {
  bool,
  checkEnvNames,
  intFrom,
  issue,
  parseConfig,
  stringList,
  stringRecord,
  text,
  type StepConfig,
} from '../shared/config-schema.js';

/**
 * A process step's `config`. Give `command` (with `args`), or `jobName`: Ork's
 * script name, resolved against the executor's `scriptsDir`.
 *
 * @example
 * { command: 'python3', args: ['etl.py', '--day', 'today'], cwd: 'jobs', env: { MODE: 'full' } }
 * { jobName: 'example-task.sh' }
 */
const processStepConfig = z
  .object({
    /** The program to run (found on PATH unless it contains a slash). */
    command: text.optional(),
    /** Its arguments, passed as-is (no shell) unless `shell` is true. */
    args: stringList.optional(),
    /** Run `command` through `/bin/sh -c`. @defaultValue false */
    shell: bool.optional(),
    /** Ork's `job_name`: an executable script under the executor's `scriptsDir`. */
    jobName: text.optional(),
    /** Working directory, relative to the executor's `cwd`. @defaultValue the task's workspace, else the executor's cwd */
    cwd: text.optional(),
    /** Extra environment variables. */
    env: stringRecord.optional(),
    /** Environment variables read from the config store: `{ API_TOKEN: 'service.token' }`. Never logged. */
    envFromConfig: stringRecord.optional(),
    /** SIGTERM → SIGKILL grace period for this step, in ms. */
    graceMs: intFrom(0, 3_600_000).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.command === undefined && c.jobName === undefined) issue(ctx, ['command'], 'give command or jobName');
    if (c.command !== undefined && c.jobName !== undefined) issue(ctx, ['jobName'], 'give command or jobName, not both');
    if (c.jobName !== undefined && c.args !== undefined) issue(ctx, ['args'], 'args go with command, not jobName');
    if (c.jobName !== undefined && !isInsideName(c.jobName))
      issue(ctx, ['jobName'], 'must be a script path inside scriptsDir: relative, without ".." segments');
    checkEnvNames(ctx, c, ['env', 'envFromConfig']);
  });

export type ProcessStepConfig = z.output<typeof processStepConfig>;

export function parseProcessConfig(config: StepConfig): ProcessStepConfig {
  return parseConfig(processStepConfig, config, 'process step config');
}
/** `etl/run.sh` yes; `/bin/sh`, `../x.sh`, `a/../../x.sh`, `` no: a job name cannot leave `scriptsDir`. */
function isInsideName(name: string): boolean {
  if (name === '' || name.includes('\0') || name.startsWith('/') || name.startsWith('\\')) return false;
  return name.split(/[\\/]/).every((segment) => segment !== '..' && segment !== '');
}
