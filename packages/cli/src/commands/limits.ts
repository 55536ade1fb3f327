import type { Command } from 'commander';
import type { LimitState } from '@baton/core';
import { withStore, type RunState } from '../context.js';

/** `concurrency key llm:openai, 4/4` or `rate key api, 60/60 per 60 s`. */
export function describeLimit(l: Pick<LimitState, 'kind' | 'key' | 'limit' | 'periodMs'> & { used?: number }): string {
  const count = l.used === undefined ? `${l.limit}` : `${l.used}/${l.limit}`;
  return `${l.kind} key ${l.key}, ${count}${l.periodMs ? ` per ${l.periodMs / 1000} s` : ' at once'}`;
}

export function registerLimits(program: Command, state: RunState): void {
  program
    .command('limits')
    .description('cluster-wide concurrency and rate limit keys: used, limit, tasks waiting; "full" means due tasks wait on the key')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      await withStore(command, state, async (store, { out }) => {
        const limits = await store.listLimits();
        if (opts.json) return out.json(limits);
        out.table(
          ['KIND', 'KEY', 'USED', 'LIMIT', 'WAITING', 'STATE'],
          limits.map((l) => [
            l.kind,
            l.key,
            String(l.used),
            l.periodMs ? `${l.limit} per ${l.periodMs / 1000} s` : String(l.limit),
            String(l.waiting),
            l.waiting > 0 && l.used >= l.limit ? out.c.yellow('full') : 'room',
          ]),
        );
        if (limits.length === 0 && out.tty) out.note('no limit keys with pending or leased tasks');
      });
    });
}
