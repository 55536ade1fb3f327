import type { Command } from 'commander';
import { NotFoundError, type Task } from '@baton/core';
import { withStore, type RunState } from '../context.js';
import { formatDuration, formatTime, type Output } from '../output.js';
import { describeLimit } from './limits.js';

export function registerTask(program: Command, state: RunState): void {
  program
    .command('task <id>')
    .description("one task: status, attempts, lease, params, output, error; <id> may also be an executor's execution name")
    .option('-e, --execution', 'look <id> up as an execution name only (a pid, a Cloud Run execution)')
    .option('--json', 'print JSON')
    .action(async (idOrName: string, opts: { execution?: boolean; json?: boolean }, command: Command) => {
      await withStore(command, state, async (store, { out }) => {
        let task: Task | null = null;
        if (!opts.execution)
          task = await store.getTask(idOrName).catch((error: unknown) => (error instanceof NotFoundError ? null : Promise.reject(error)));
        task ??= await store.findTaskByExecutionName(idOrName);
        if (!task) throw new NotFoundError(opts.execution ? 'task with execution name' : 'task (by id or execution name)', idOrName);
        if (opts.json) return out.json(task);
        printTask(out, task);
      });
    });
}

function printTask(out: Output, t: Task): void {
  const { c } = out;
  const time = (d: Date | null) => formatTime(d, out.tty);
  const rows: [string, string][] = [
    ['task', t.id],
    ['run', t.runId],
    ['step', `${t.stepName} #${t.taskIndex} of ${t.taskCount}`],
    ['status', out.status(t.status)],
    ['attempt', `${t.attempt} of ${t.maxAttempts}`],
    ['execution', t.executionName ?? '-'],
    ['priority', String(t.priority)],
    ['run at', time(t.runAt)],
    ['lease', t.leaseOwner ? `${t.leaseOwner} until ${time(t.leaseExpiresAt)}` : '-'],
    ['started', time(t.startedAt)],
    ['finished', time(t.finishedAt)],
    ['duration', formatDuration(t.startedAt && t.finishedAt ? t.finishedAt.getTime() - t.startedAt.getTime() : null)],
    ['params', JSON.stringify(t.params)],
  ];
  if (t.concurrencyLimit) rows.push(['limit', describeLimit({ kind: 'concurrency', ...t.concurrencyLimit, periodMs: null })]);
  if (t.rateLimit) rows.push(['limit', describeLimit({ kind: 'rate', ...t.rateLimit })]);
  if (t.workspace) rows.push(['workspace', t.workspace]);
  if (Object.keys(t.metadata).length) rows.push(['metadata', JSON.stringify(t.metadata)]);
  if (t.output !== null) rows.push(['output', JSON.stringify(t.output)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out.line(`${c.dim(k.padEnd(width))}  ${v}`);
  if (t.error) {
    out.line(`${c.dim('error'.padEnd(width))}  ${c.red(t.error.split('\n')[0]!)}`);
    for (const line of t.error.split('\n').slice(1)) out.line(`${' '.repeat(width + 2)}${c.red(line)}`);
  }
}
