import { readFileSync } from 'node:fs';
import type { CpuPerJob, ThroughputRow } from './throughput.js';
/** The q-th percentile (0..1) of the samples, nearest rank. */
export function percentile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Items per second, rounded: `n` items in `ms` milliseconds. */
export const perSec = (n: number, ms: number) => Math.round(n / (ms / 1000));

/** What a peer's run measured: its times, and optionally the WAL and CPU of its processing. */
export interface JobsMeasured {
  enqueueMs: number;
  processMs: number;
  /** How the peer was configured, printed with the results. */
  config: string;
  walBytes?: number;
  cpu?: CpuPerJob;
}

/** A peer's result row: its jobs (a job has no run around it), both rates from the measured times. */
export function jobsRow(system: string, db: ThroughputRow['db'], tasks: number, m: JobsMeasured): ThroughputRow {
  return {
    system,
    db,
    shape: 'jobs',
    tasks,
    enqueuePerSec: perSec(tasks, m.enqueueMs),
    processPerSec: perSec(tasks, m.processMs),
    ...(m.walBytes !== undefined && { walBytesPerJob: Math.round(m.walBytes / tasks) }),
    ...(m.cpu && { cpuUsPerJob: m.cpu }),
    config: m.config,
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

/** The machine's busy CPU time so far in µs (user, nice, system, irq, softirq: not idle, I/O wait or steal), or undefined off Linux. */
function machineBusyUs(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq] = fields;
    // /proc/stat counts in USER_HZ ticks, 100 a second on Linux.
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) * 10_000;
  } catch {
    return undefined;
  }
}

/**
 * Starts measuring the CPU a system spends while it processes: this process's
 * (every system runs its workers in the bench process: its JavaScript, its
 * driver, its garbage collector) and the rest of the machine's over the same
 * window (on PostgreSQL mostly the database server; on SQLite little). The
 * stop function divides both by the jobs processed. Rates move with the
 * machine's speed from minute to minute; this says where each system's time
 * goes and what a job costs in all.
 */
export function cpuMeter(): (jobs: number) => CpuPerJob {
  const machine = machineBusyUs();
  const own = process.cpuUsage();
  return (jobs) => {
    const used = process.cpuUsage(own);
    const processUs = used.user + used.system;
    const after = machineBusyUs();
    const perJob = (us: number) => Math.round((us / jobs) * 10) / 10;
    return {
      process: perJob(processUs),
      ...(machine !== undefined && after !== undefined && { other: perJob(Math.max(0, after - machine - processUs)) }),
    };
  };
}
