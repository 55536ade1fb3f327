import type { ChildProcess } from 'node:child_process';

/**
 * Supervisors alive in this worker. When the worker exits, or receives SIGTERM
 * or SIGINT, each gets SIGTERM and winds its process group down on its own
 * (grace period, then SIGKILL), whether or not the worker lives that long.
 * A SIGKILLed worker runs none of this: supervisors notice their parent is
 * gone instead (see supervisor-source.ts).
 *
 * The listeners exist only while children do. On a signal, if no one else
 * listens for it, the signal is raised again after our listener is removed, so
 * that the worker still dies as it would have without Baton.
 */
const live = new Set<ChildProcess>();
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

function terminateAll(): void {
  for (const child of live) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

function onExit(): void {
  terminateAll();
}

function onSignal(signal: NodeJS.Signals): void {
  terminateAll();
  if (process.listenerCount(signal) === 1) {
    uninstall();
    process.kill(process.pid, signal);
  }
}

function install(): void {
  process.on('exit', onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  process.off('exit', onExit);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

export function track(child: ChildProcess): void {
  if (live.size === 0) install();
  live.add(child);
}

export function untrack(child: ChildProcess): void {
  if (!live.delete(child)) return;
  if (live.size === 0) uninstall();
}

/** How many supervised process groups this worker has running (for tests and metrics). */
export function liveProcessGroups(): number {
  return live.size;
}
