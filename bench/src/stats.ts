import type { ThroughputRow } from './throughput.js';
/** The q-th percentile (0..1) of the samples, nearest rank. */
export function percentile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Items per second, rounded: `n` items in `ms` milliseconds. */
export const perSec = (n: number, ms: number) => Math.round(n / (ms / 1000));

/** A peer's result row: its jobs (a job has no run around it), both rates from the measured times. */
export function jobsRow(
  system: string,
  db: ThroughputRow['db'],
  tasks: number,
  enqueueMs: number,
  processMs: number,
  config: string,
  walBytes?: number,
): ThroughputRow {
  return {
    system,
    db,
    shape: 'jobs',
    tasks,
    enqueuePerSec: perSec(tasks, enqueueMs),
    processPerSec: perSec(tasks, processMs),
    ...(walBytes !== undefined && { walBytesPerJob: Math.round(walBytes / tasks) }),
    config,
  };
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Progress lines for a person watching: one per step, with elapsed time. */
export function progress(label: string): (message: string) => void {
  const start = performance.now();
  return (message) => console.log(`  [${((performance.now() - start) / 1000).toFixed(1).padStart(6)} s] ${label}: ${message}`);
}
