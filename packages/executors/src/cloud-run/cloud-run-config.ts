import { z } from 'zod';
import { checkEnvNames, intFrom, issue, parseConfig, stringList, stringRecord, text, type StepConfig } from '../shared/config-schema.js';

// Names end up in URL paths: refuse anything that could change the path.
const PROJECT = /^[a-z0-9][a-z0-9.:-]*$/;
const REGION = /^[a-z][a-z0-9-]*$/;
const JOB = /^[a-z][a-z0-9-]{0,62}$/;
const JOB_MESSAGE = 'must be a Cloud Run job name (lowercase letters, digits, -)';

/**
 * A cloud-run step's `config`: which Cloud Run job to run (Ork's project,
 * region and `job_name`) and what to override per execution. Parsed, `job`
 * holds the name whichever of `job` and `jobName` gave it.
 *
 * @example
 * { project: 'acme-data', region: 'us-central1', job: 'nightly-etl', taskCount: 10, env: { MODE: 'full' } }
 */
const cloudRunStepConfig = z
  .object({
    project: text.regex(PROJECT, 'must be a Google Cloud project id'),
    region: text.regex(REGION, 'must be a region such as us-central1'),
    /** The Cloud Run job's name. */
    job: text.regex(JOB, JOB_MESSAGE).optional(),
    /** The job's name as Ork calls it (`job_name`): give this or `job`. */
    jobName: text.regex(JOB, JOB_MESSAGE).optional(),
    /** Cloud Run tasks in the execution (overrides the job's). */
    taskCount: intFrom(1, 10_000).optional(),
    /** Per-task timeout of the execution, in seconds (overrides the job's). */
    timeoutSeconds: intFrom(1, 7 * 24 * 3600).optional(),
    /** The container to override, for jobs with several. */
    container: text.optional(),
    /** Container arguments (replace the job's). */
    args: stringList.optional(),
    /** Extra environment variables for the container. */
    env: stringRecord.optional(),
    /** Environment variables read from the config store. They become part of the execution's spec in Google Cloud. */
    envFromConfig: stringRecord.optional(),
    /** Time between status polls; overrides the executor's. */
    pollIntervalMs: intFrom(10, 3_600_000).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.job !== undefined && c.jobName !== undefined) issue(ctx, ['jobName'], 'give job or jobName, not both');
    if (c.job === undefined && c.jobName === undefined) issue(ctx, ['job'], 'is required');
    checkEnvNames(ctx, c, ['env', 'envFromConfig']);
  })
  .transform(({ jobName, job, ...rest }) => ({ ...rest, job: (job ?? jobName)! }));

export type CloudRunStepConfig = z.output<typeof cloudRunStepConfig>;

export function parseCloudRunConfig(config: StepConfig): CloudRunStepConfig {
  return parseConfig(cloudRunStepConfig, config, 'cloud-run step config');
}
