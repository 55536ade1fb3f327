import type { Command } from 'commander';
import { createBaton, type Json } from '@baton/core';
import { withStore, type RunState } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { followRun } from './runs.js';

export function registerTrigger(program: Command, state: RunState): void {
  program
    .command('trigger <workflow>')
    .description("start a run of a workflow (triggered by 'user'); a worker of the host application executes it")
    .option('-i, --input <key=value>', 'an input, a string; key:=json for a JSON value (repeatable)', collectInput, [])
    .option('--inputs <json>', 'all inputs as one JSON object (--input entries override its keys)')
    .option('--idempotency-key <key>', 'a repeated trigger with the same key returns the first run')
    .option('--wait', 'follow the run until it finishes; exit 3 unless it succeeded')
    .option('--json', 'print the run as JSON (the finished run with --wait)')
    .action(
      async (
        workflowName: string,
        opts: { input: [string, Json][]; inputs?: string; idempotencyKey?: string; wait?: boolean; json?: boolean },
        command: Command,
      ) => {
        const inputs = buildInputs(opts.inputs, opts.input);
        await withStore(command, state, async (store, { out, exit }) => {
          const baton = createBaton({ store, schedules: false });
          const run = await baton.trigger(workflowName, {
            inputs,
            triggeredBy: 'user',
            ...(opts.idempotencyKey !== undefined && { idempotencyKey: opts.idempotencyKey }),
          });
          if (!opts.wait) {
            if (opts.json) return out.json(run);
            // Off a TTY the id alone, for RUN=$(baton trigger etl).
            return out.line(out.tty ? `triggered ${run.workflowName}: run ${run.id}` : run.id);
          }
          const finished = await followRun(store, out, run, opts.json);
          if (opts.json) out.json(finished);
          if (finished.status !== 'success') exit(EXIT.runFailed);
        });
      },
    );
}

/** `key=value` (a string) or `key:=json`, as httpie spells them. */
function collectInput(value: string, previous: [string, Json][]): [string, Json][] {
  const typed = /^([^=:]+):=(.*)$/s.exec(value);
  if (typed) {
    try {
      return [...previous, [typed[1]!, JSON.parse(typed[2]!) as Json]];
    } catch {
      throw new UsageError(`--input ${typed[1]}:= needs a JSON value, got: ${typed[2]}`);
    }
  }
  const plain = /^([^=]+)=(.*)$/s.exec(value);
  if (!plain) throw new UsageError(`--input expects key=value or key:=json, got: ${value}`);
  return [...previous, [plain[1]!, plain[2]!]];
}

function buildInputs(json: string | undefined, entries: [string, Json][]): { [key: string]: Json } {
  let base: unknown = {};
  if (json !== undefined) {
    try {
      base = JSON.parse(json);
    } catch (error) {
      throw new UsageError(`--inputs is not valid JSON: ${(error as Error).message}`);
    }
    if (base === null || typeof base !== 'object' || Array.isArray(base))
      throw new UsageError('--inputs must be a JSON object, e.g. {"day":"mon"}');
  }
  return { ...(base as { [key: string]: Json }), ...Object.fromEntries(entries) };
}
