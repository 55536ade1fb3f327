import type { Command } from 'commander';
import { withStore, type RunState } from '../context.js';
import { formatTime } from '../output.js';
import { describeLocation } from '../store.js';

export function registerMigrate(program: Command, state: RunState): void {
  program
    .command('migrate')
    .description('apply pending schema migrations (creating the store if needed), or list them with --status')
    .option('--status', 'list applied and pending migrations; change nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { status?: boolean; json?: boolean }, command: Command) => {
      await withStore(
        command,
        state,
        async (store, { out, location }) => {
          const before = await store.migrationStatus();
          if (opts.status) {
            if (opts.json) return out.json(before);
            out.table(
              ['MIGRATION', 'STATUS', 'APPLIED AT'],
              before.map((m) => [m.name, m.appliedAt ? out.c.green('applied') : out.c.yellow('pending'), formatTime(m.appliedAt, out.tty)]),
            );
            if (out.tty) {
              const pending = before.filter((m) => !m.appliedAt).length;
              out.note(pending ? `${pending} pending: run baton migrate` : `${describeLocation(location)} is up to date`);
            }
            return;
          }
          await store.migrate();
          const after = await store.migrationStatus();
          const applied = after.filter((m) => m.appliedAt && !before.find((b) => b.name === m.name)?.appliedAt);
          if (opts.json) return out.json({ applied: applied.map((m) => m.name), migrations: after });
          for (const m of applied) out.line(`applied ${m.name}`);
          if (applied.length === 0)
            out.line(`${describeLocation(location)} is up to date (${after.length} migration${after.length === 1 ? '' : 's'} applied)`);
        },
        { create: true },
      );
    });
}
