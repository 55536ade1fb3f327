import { createServer } from 'node:http';
import type { Command } from 'commander';
import { createBaton, type Baton, type Store } from '@baton/core';
import { withStore, type RunState } from '../context.js';
import { CliError } from '../errors.js';
import { InvalidArgumentError } from 'commander';

/** What `@baton/dashboard` exports; typed here so that the CLI builds without it. */
interface DashboardModule {
  createDashboard(options: { store: Store; baton?: Baton; basePath?: string; authorize?: () => boolean }): {
    node(req: unknown, res: unknown): void;
  };
}

const DASHBOARD_PACKAGE = '@baton/dashboard';

export function registerDashboard(program: Command, state: RunState): void {
  program
    .command('dashboard')
    .description(`serve the dashboard (${DASHBOARD_PACKAGE}, when installed) on this store until Ctrl-C`)
    .option('-p, --port <port>', 'port to listen on (0: any free port)', parsePort, 3000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--actions', 'let everyone who reaches it trigger, cancel and retry (read-only without)')
    .action(async (opts: { port: number; host: string; actions?: boolean }, command: Command) => {
      // Before the store opens: a missing package is the first thing to say.
      const dashboard = await loadDashboard();
      await withStore(command, state, async (store, { out }) => {
        const baton = createBaton({ store, schedules: false });
        // Read-only unless asked: the dashboard refuses actions when no `authorize` is given.
        const handler = dashboard.createDashboard({ store, baton, ...(opts.actions && { authorize: () => true }) });
        const server = createServer((req, res) => handler.node(req, res));
        await new Promise<void>((resolve, reject) => {
          server.once('error', (error: NodeJS.ErrnoException) =>
            reject(
              new CliError(
                error.code === 'EADDRINUSE'
                  ? `port ${opts.port} on ${opts.host} is in use (pick another with --port)`
                  : `cannot listen: ${error.message}`,
              ),
            ),
          );
          server.listen(opts.port, opts.host, () => resolve());
        });
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : opts.port;
        out.line(
          `dashboard on http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}/ (${opts.actions ? 'actions allowed' : 'read-only'}; Ctrl-C to stop)`,
        );
        // Serve until SIGINT/SIGTERM, then close the server; withStore closes the store.
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            server.closeAllConnections();
            server.close(() => resolve());
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      });
    });
}

async function loadDashboard(): Promise<DashboardModule> {
  try {
    return (await import(DASHBOARD_PACKAGE)) as DashboardModule;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(DASHBOARD_PACKAGE)) {
      throw new CliError(`baton dashboard needs ${DASHBOARD_PACKAGE}: install it next to @baton/cli (npm install ${DASHBOARD_PACKAGE})`);
    }
    throw error;
  }
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return n;
}
