import type { Command } from 'commander';
import { LOG_TYPES, type Log, type LogType } from '@baton/core';
import { encodeCursor } from '@baton/core/store-kit';
import { withStore, type RunState } from '../context.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { isFinished } from './runs.js';

export function registerLogs(program: Command, state: RunState): void {
  program
    .command('logs <run>')
    .description('the logs of a run in execution order, coloured by type')
    .option('-f, --follow', 'keep printing new lines until the run finishes')
    .option('-t, --type <types>', `only these types, comma-separated (${LOG_TYPES.join(', ')})`, parseTypes)
    .option('--task <id>', 'only the logs of this task')
    .option('--interval <ms>', 'with --follow, how often to look for new lines', (v) => Math.max(50, Number(v) || 500), 500)
    .option('--json', 'print JSON: an array, or one object per line with --follow')
    .action(
      async (
        runId: string,
        opts: { follow?: boolean; type?: Set<LogType>; task?: string; interval: number; json?: boolean },
        command: Command,
      ) => {
        await withStore(command, state, async (store, { out }) => {
          let run = await store.getRun(runId);
          const keep = (log: Log) => !opts.type || opts.type.has(log.type);
          const collected: Log[] = [];
          const emit = (log: Log) => {
            if (!keep(log)) return;
            if (opts.json && !opts.follow) collected.push(log);
            else if (opts.json) out.jsonLine(log);
            else printLog(out, log);
          };
          let cursor: string | null = null;
          // One page after another; with --follow, poll from the last cursor until the run has
          // finished and a read after that finish found nothing new (its last lines are in).
          for (;;) {
            const finishedBefore = isFinished(run.status);
            const page = await store.listLogs(runId, { limit: 1000, cursor, ...(opts.task && { taskId: opts.task }) });
            page.items.forEach(emit);
            if (page.items.length) cursor = encodeCursor([page.items[page.items.length - 1]!.id]);
            if (page.nextCursor !== null) continue;
            if (!opts.follow || finishedBefore) break;
            await new Promise((r) => setTimeout(r, opts.interval));
            run = await store.getRun(runId);
          }
          if (opts.json && !opts.follow) out.json(collected);
          if (opts.follow && out.tty && !opts.json) out.note(`run ${run.id} ${out.status(run.status)}`);
        });
      },
    );
}

function parseTypes(value: string): Set<LogType> {
  const types = value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = types.filter((t) => !(LOG_TYPES as readonly string[]).includes(t));
  if (unknown.length || types.length === 0)
    throw new UsageError(`--type: unknown log type ${unknown.join(', ') || '(none)'}; types are ${LOG_TYPES.join(', ')}`);
  return new Set(types as LogType[]);
}

/**
 * `12:00:01.250 info  message`: the type coloured as Microlight colours it; an
 * error's further lines (its stack) indented beneath it, in red.
 */
function printLog(out: Output, log: Log): void {
  const { c } = out;
  const time = out.tty
    ? `${log.createdAt.toTimeString().slice(0, 8)}.${String(log.createdAt.getMilliseconds()).padStart(3, '0')}`
    : log.createdAt.toISOString();
  const [first, ...rest] = log.type === 'json' ? prettyJson(log.content).split('\n') : log.content.split('\n');
  const tag = out.logType(log.type, log.type.padEnd(8));
  const body = log.type === 'log' || log.type === 'json' || log.type === 'markdown' ? first : out.logType(log.type, first ?? '');
  out.line(`${c.dim(time)} ${tag} ${body}`);
  const indent = ' '.repeat(time.length + 10);
  for (const line of rest) out.line(`${indent}${log.type === 'error' ? c.red(line) : line}`);
}

function prettyJson(content: string): string {
  try {
    return JSON.stringify(JSON.parse(content), null, 2);
  } catch {
    return content;
  }
}
