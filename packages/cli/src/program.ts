import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { registerDashboard } from './commands/dashboard.js';
import { registerLimits } from './commands/limits.js';
import { registerLogs } from './commands/logs.js';
import { registerMigrate } from './commands/migrate.js';
import { registerRetry, registerRuns } from './commands/runs.js';
import { registerTask } from './commands/task.js';
import { registerTrigger } from './commands/trigger.js';
import { registerWorkflows } from './commands/workflows.js';
import type { RunState } from './context.js';
import { DEFAULT_DB } from './store.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * The `baton` command line. Errors are not printed here: commander's own
 * (unknown command, bad option) go through `outputError`, the rest are thrown
 * to `main`, which prints one line and picks the exit code.
 */
export function buildProgram(state: RunState, onUsageError: (message: string) => void): Command {
  const program = new Command('baton')
    .description('Operate a Baton store: migrations, workflows, runs, tasks, logs.')
    .version(version, '-V, --version')
    .addOption(new Option('--db <location>', `SQLite file, postgres://… URL, or file:<dir> (default: ${DEFAULT_DB})`).env('BATON_DB'))
    .addOption(new Option('--schema <name>', 'PostgreSQL schema of the Baton tables').env('BATON_SCHEMA'))
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .option('--debug', 'print stack traces of errors')
    .exitOverride()
    .configureOutput({ outputError: (message) => onUsageError(message) })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 an operation failed (unknown id, conflict, store unreachable),
2 bad command line, 3 trigger/retry --wait: the run did not succeed.
Listings take --json; tables and colours only on a terminal.`,
    );
  registerMigrate(program, state);
  registerWorkflows(program, state);
  registerRuns(program, state);
  registerLogs(program, state);
  registerTask(program, state);
  registerTrigger(program, state);
  registerRetry(program, state);
  registerLimits(program, state);
  registerDashboard(program, state);
  return program;
}
