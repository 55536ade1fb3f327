import {
  fail,
  optionalInt,
  optionalString,
  optionalStringArray,
  optionalStringRecord,
  rejectUnknown,
  type StepConfig,
} from '../shared/config-fields.js';

/**
 * A cloud-run step's `config`: which Cloud Run job to run (Ork's project,
 * region and `job_name`) and what to override per execution.
 *
 * @example
 * { project: 'acme-data', region: 'us-central1', job: 'nightly-etl', taskCount: 10, env: { MODE: 'full' } }
 */
export interface CloudRunStepConfig {
  project: string;
  region: string;
  /** The Cloud Run job's name (`jobName` is accepted too, as in Ork). */
  job: string;
  /** Cloud Run tasks in the execution (overrides the job's). */
  taskCount?: number;
  /** Per-task timeout of the execution, in seconds (overrides the job's). */
  timeoutSeconds?: number;
  /** The container to override, for jobs with several. */
  container?: string;
  /** Container arguments (replace the job's). */
  args?: string[];
  /** Extra environment variables for the container. */
  env?: Record<string, string>;
  /** Environment variables read from the config store. They become part of the execution's spec in Google Cloud. */
  envFromConfig?: Record<string, string>;
  /** Time between status polls; overrides the executor's. */
  pollIntervalMs?: number;
}

export const CLOUD_RUN_CONFIG_FIELDS = [
  'project',
  'region',
  'job',
  'jobName',
  'taskCount',
  'timeoutSeconds',
  'container',
  'args',
  'env',
  'envFromConfig',
  'pollIntervalMs',
] as const;

// Names end up in URL paths: refuse anything that could change the path.
const PROJECT = /^[a-z0-9][a-z0-9.:-]*$/;
const REGION = /^[a-z][a-z0-9-]*$/;
const JOB = /^[a-z][a-z0-9-]{0,62}$/;

export function parseCloudRunConfig(config: StepConfig): CloudRunStepConfig {
  const what = 'cloud-run step config';
  rejectUnknown(what, config, CLOUD_RUN_CONFIG_FIELDS);
  const project = optionalString(what, config, 'project');
  const region = optionalString(what, config, 'region');
  const job = optionalString(what, config, 'job');
  const jobName = optionalString(what, config, 'jobName');
  if (project === undefined) fail(what, 'project', 'is required');
  if (!PROJECT.test(project)) fail(what, 'project', 'must be a Google Cloud project id');
  if (region === undefined) fail(what, 'region', 'is required');
  if (!REGION.test(region)) fail(what, 'region', 'must be a region such as us-central1');
  if (job !== undefined && jobName !== undefined) fail(what, 'jobName', 'give job or jobName, not both');
  const name = job ?? jobName;
  if (name === undefined) fail(what, 'job', 'is required');
  if (!JOB.test(name)) fail(what, job !== undefined ? 'job' : 'jobName', 'must be a Cloud Run job name (lowercase letters, digits, -)');
  const parsed: CloudRunStepConfig = {
    project,
    region,
    job: name,
    taskCount: optionalInt(what, config, 'taskCount', 1, 10_000),
    timeoutSeconds: optionalInt(what, config, 'timeoutSeconds', 1, 7 * 24 * 3600),
    container: optionalString(what, config, 'container'),
    args: optionalStringArray(what, config, 'args'),
    env: optionalStringRecord(what, config, 'env'),
    envFromConfig: optionalStringRecord(what, config, 'envFromConfig'),
    pollIntervalMs: optionalInt(what, config, 'pollIntervalMs', 10, 3_600_000),
  };
  for (const key of [...Object.keys(parsed.env ?? {}), ...Object.keys(parsed.envFromConfig ?? {})]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) fail(what, `env.${key}`, 'is not a valid environment variable name');
  }
  return parsed;
}
