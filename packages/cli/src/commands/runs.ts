import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  FINISHED_RUN_STATUSES,
  NotFoundError,
  createBaton,
  RUN_STATUSES,
  type Run,
  type RunStatus,
  type Store,
  type Task,
} from '@baton/core';
import { collect, withStore, type RunState } from '../context.js';
import { EXIT } from '../errors.js';
import { formatDuration, formatTime, oneLine, type Output } from '../output.js';

function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
    return n;
  };
}

export function registerRuns(program: Command, state: RunState): void {
  program
    .command('runs')
    .description('list runs, newest first')
    .option('-w, --workflow <name>', 'only runs of this workflow')
    .addOption(new Option('-s, --status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .option('-n, --limit <n>', 'most runs to list', positiveInt(100_000), 20)
    .option('--json', 'print JSON')
    .action(async (opts: { workflow?: string; status?: RunStatus; limit: number; json?: boolean }, command: Command) => {
      await withStore(command, state, async (store, { out }) => {
        let workflowId: string | undefined;
        if (opts.workflow !== undefined) {
          const workflow = await store.findWorkflow(opts.workflow);
          if (!workflow) throw new NotFoundError('workflow', opts.workflow);
          workflowId = workflow.id;
        }
        const runs = await collect(
          (cursor, limit) =>
            store.listRuns({ limit, cursor, ...(workflowId && { workflowId }), ...(opts.status && { status: opts.status }) }),
          opts.limit,
        );
        if (opts.json) return out.json(runs);
        out.table(
          ['RUN', 'WORKFLOW', 'STATUS', 'TRIGGER', 'TASKS', 'CREATED', 'DURATION', 'ERROR'],
          runs.map((r) => [
            r.id,
            r.workflowName,
            out.status(r.status),
            r.triggeredBy,
            taskCounts(r, out),
            formatTime(r.createdAt, out.tty),
            formatDuration(r.durationMs),
            oneLine(r.error, 60),
          ]),
        );
        if (runs.length === 0 && out.tty) out.note('no runs');
      });
    });

  program
    .command('show <run>')
    .description('a run with its steps and tasks as a tree: status, attempts, durations, errors')
    .option('--tasks <n>', 'most tasks listed per step (the step line counts them all)', positiveInt(1_000_000), 20)
    .option('--json', 'print JSON: the run and every task')
    .action(async (runId: string, opts: { tasks: number; json?: boolean }, command: Command) => {
      await withStore(command, state, async (store, { out }) => {
        const run = await store.getRun(runId);
        const workflow = await store.getWorkflow(run.workflowId).catch(() => null);
        const tasks = await collect((cursor, limit) => store.listTasks({ runId, limit, cursor }));
        if (opts.json) return out.json({ run, tasks });
        printTree(out, run, workflow?.steps.map((s) => ({ name: s.name, dependsOn: s.dependsOn ?? [] })) ?? [], tasks, opts.tasks);
      });
    });

  program
    .command('cancel <run>')
    .description('cancel a run that has not finished: waiting and pending tasks end at once, running ones at their next heartbeat')
    .option('--reason <text>', 'recorded as the run error', 'cancelled from the baton CLI')
    .option('--json', 'print the run as JSON')
    .action(async (runId: string, opts: { reason: string; json?: boolean }, command: Command) => {
      await withStore(command, state, async (store, { out }) => {
        const run = await store.cancelRun(runId, opts.reason);
        if (opts.json) return out.json(run);
        out.line(`${run.id} ${out.status(run.status)}`);
      });
    });
}

export function registerRetry(program: Command, state: RunState): void {
  program
    .command('retry <run>')
    .description('run again the failed, timed-out and cancelled tasks of a finished run (fresh attempts); a worker executes them')
    .option('--wait', 'follow the run until it finishes; exit 3 unless it succeeded')
    .option('--json', 'print the run as JSON (the finished run with --wait)')
    .action(async (runId: string, opts: { wait?: boolean; json?: boolean }, command: Command) => {
      await withStore(command, state, async (store, { out, exit }) => {
        const run = await createBaton({ store, schedules: false }).retry(runId);
        if (!opts.wait) {
          if (opts.json) return out.json(run);
          return out.line(
            `${run.id} ${out.status(run.status)}: ${run.tasksTotal - run.tasksFinished} task${run.tasksTotal - run.tasksFinished === 1 ? '' : 's'} to run again`,
          );
        }
        const finished = await followRun(store, out, run, opts.json);
        if (finished.status !== 'success') exit(EXIT.runFailed);
        if (opts.json) out.json(finished);
      });
    });
}

/**
 * `--wait`: progress on stderr on a TTY, the final status on stdout (unless
 * `--json`, whose caller prints the run).
 */
export async function followRun(store: Store, out: Output, run: Run, json = false): Promise<Run> {
  if (out.tty)
    out.note(
      `run ${run.id} of ${run.workflowName}: waiting for it to finish (a worker must be running; Ctrl-C stops waiting, not the run)`,
    );
  const finished = await waitForRun(store, run.id, (r) => {
    if (out.tty)
      out.note(
        `  ${out.status(r.status)} ${r.tasksFinished}/${r.tasksTotal} tasks${r.tasksFailed ? out.c.red(` (${r.tasksFailed} failed)`) : ''}`,
      );
  });
  if (!json)
    out.line(
      `${finished.id} ${out.status(finished.status)} in ${formatDuration(finished.durationMs)}${finished.error ? `: ${oneLine(finished.error, 200)}` : ''}`,
    );
  return finished;
}

/** `4/5` finished of total, with the failed ones in red. */
function taskCounts(r: Run, out: Output): string {
  const base = `${r.tasksFinished}/${r.tasksTotal}`;
  return r.tasksFailed > 0 ? `${base} ${out.c.red(`(${r.tasksFailed} failed)`)}` : base;
}

export const isFinished = (status: RunStatus): boolean => (FINISHED_RUN_STATUSES as readonly string[]).includes(status);

function taskDuration(t: Task): number | null {
  if (!t.startedAt) return null;
  return (t.finishedAt ?? new Date()).getTime() - t.startedAt.getTime();
}

function printTree(out: Output, run: Run, steps: { name: string; dependsOn: string[] }[], tasks: Task[], perStep: number): void {
  const { c } = out;
  out.line(
    `${c.bold(run.workflowName)} ${run.id}  ${out.status(run.status)}  ${run.tasksFinished}/${run.tasksTotal} tasks  ${formatDuration(run.durationMs)}  ${c.dim(`triggered by ${run.triggeredBy}, ${formatTime(run.createdAt, out.tty)}`)}`,
  );
  if (Object.keys(run.inputs).length) out.line(c.dim(`inputs ${JSON.stringify(run.inputs)}`));
  if (run.error) out.line(c.red(`error ${oneLine(run.error, 200)}`));
  // Steps as defined; a step of the run no longer in the definition still shows.
  const names = [...steps.map((s) => s.name), ...new Set(tasks.map((t) => t.stepName))].filter((n, i, all) => all.indexOf(n) === i);
  names.forEach((name, si) => {
    const lastStep = si === names.length - 1;
    const stepTasks = tasks.filter((t) => t.stepName === name);
    const counts = new Map<string, number>();
    for (const t of stepTasks) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
    const summary = [...counts].map(([s, n]) => `${n} ${out.status(s)}`).join(', ');
    const after = steps.find((s) => s.name === name)?.dependsOn ?? [];
    out.line(
      `${lastStep ? '└─' : '├─'} ${c.bold(name)}  ${summary || c.dim('no tasks')}${after.length ? c.dim(`  after ${after.join(', ')}`) : ''}`,
    );
    const stem = lastStep ? '   ' : '│  ';
    const shown = stepTasks.slice(0, perStep);
    shown.forEach((t, ti) => {
      const lastTask = ti === shown.length - 1 && stepTasks.length <= perStep;
      const details = [
        out.status(t.status),
        `attempt ${t.attempt}/${t.maxAttempts}`,
        formatDuration(taskDuration(t)),
        t.executionName ? c.dim(`exec ${t.executionName}`) : '',
        c.dim(t.id),
      ].filter(Boolean);
      out.line(`${stem}${lastTask ? '└─' : '├─'} #${t.taskIndex}  ${details.join('  ')}`);
      if (t.error && t.status !== 'success') out.line(`${stem}${lastTask ? '   ' : '│  '}   ${c.red(oneLine(t.error, 160))}`);
    });
    if (stepTasks.length > perStep)
      out.line(`${stem}└─ ${c.dim(`… ${stepTasks.length - perStep} more (--tasks ${stepTasks.length} to list them)`)}`);
  });
}

/** Reads the run until it finishes, calling `progress` whenever it changed. */
async function waitForRun(store: Store, runId: string, progress: (run: Run) => void, pollMs = 250): Promise<Run> {
  let last = '';
  for (;;) {
    const run = await store.getRun(runId);
    const key = `${run.status}:${run.tasksFinished}:${run.tasksFailed}`;
    if (key !== last) {
      last = key;
      progress(run);
    }
    if (isFinished(run.status)) return run;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
