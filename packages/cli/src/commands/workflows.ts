import { Option, type Command } from 'commander';
import { WORKFLOW_STATUSES, createBaton, type Workflow, type WorkflowStatus } from '@baton/core';
import { collect, withStore, type RunState } from '../context.js';

export function registerWorkflows(program: Command, state: RunState): void {
  program
    .command('workflows')
    .description('list workflows: name, status, steps, schedules')
    .addOption(new Option('--status <status>', 'only workflows with this status').choices(WORKFLOW_STATUSES))
    .option('--json', 'print JSON')
    .action(async (opts: { status?: WorkflowStatus; json?: boolean }, command: Command) => {
      await withStore(command, state, async (store, { out }) => {
        const workflows = await collect((cursor, limit) =>
          store.listWorkflows({ limit, cursor, ...(opts.status && { status: opts.status }) }),
        );
        if (opts.json) return out.json(workflows);
        out.table(
          ['NAME', 'STATUS', 'STEPS', 'SCHEDULES'],
          workflows.map((w) => [w.name, out.status(w.status), describeSteps(w), describeSchedules(w)]),
        );
        if (workflows.length === 0 && out.tty) out.note('no workflows');
      });
    });

  const setters = [
    ['pause', 'paused', 'stop claiming its tasks (pending ones wait) and skip its schedule fires'],
    ['resume', 'active', 'make a paused (or archived) workflow active again'],
    ['archive', 'archived', 'refuse new runs of it; runs in flight go on'],
  ] as const;
  for (const [name, status, description] of setters) {
    program
      .command(`${name} <workflow>`)
      .description(`${description}`)
      .option('--json', 'print the workflow as JSON')
      .action(async (workflowName: string, opts: { json?: boolean }, command: Command) => {
        await withStore(command, state, async (store, { out }) => {
          const baton = createBaton({ store, schedules: false });
          const workflow =
            status === 'paused'
              ? await baton.pauseWorkflow(workflowName)
              : status === 'active'
                ? await baton.resumeWorkflow(workflowName)
                : await baton.archiveWorkflow(workflowName);
          if (opts.json) return out.json(workflow);
          out.line(`${workflow.name} is ${out.status(workflow.status)}`);
        });
      });
  }
}

/** `extract×4 → load` style: each step with its fan-out, in definition order. */
function describeSteps(w: Workflow): string {
  return w.steps
    .map((s) => {
      const fanOut = s.paramsList ? s.paramsList.length : (s.taskCount ?? 1);
      return `${s.name}${fanOut === 1 ? '' : `×${fanOut}`}${s.dependsOn?.length ? `(after ${s.dependsOn.join(',')})` : ''}`;
    })
    .join(' ');
}

function describeSchedules(w: Workflow): string {
  return w.schedules.map((s) => `${s.cron}${s.timezone && s.timezone !== 'UTC' ? ` ${s.timezone}` : ''}`).join('; ') || '-';
}
