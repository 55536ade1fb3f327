import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '@baton/core';
import { spawnTs, until, type Child } from '@baton/test-kit';
import { afterEach, expect } from 'vitest';
import { eachStore, onCleanup } from '../src/index.js';
import { KEYS, LIMIT, LIMITED, RATE, RATED, RATED_TASKS, TASKS_PER_KEY, WORK_MS } from './fixtures/workflows.js';

/**
 * Four real worker processes on one store: a concurrency limit of 2 per key is
 * never exceeded across them and is used to the full, and a rate limit of N per
 * period holds at the window edges. Handlers record what they observed.
 */
const worker = fileURLToPath(new URL('./fixtures/limit-worker.ts', import.meta.url));
const children: Child[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.process.kill('SIGKILL');
});

interface Event {
  key: string;
  start: number;
  end: number;
  worker: string;
  /** The claim time the handler's task carries (its `dispatchedAt`). */
  claimedAt: number;
}

async function startWorker(spec: string, id: string, events: string): Promise<void> {
  const child = spawnTs(worker, [spec, id, events]);
  children.push(child);
  await child.ready();
}

/** Most intervals open at once; at equal times an end comes first (the slot is freed only after it). */
function maxOverlap(events: Event[]): number {
  const points = events
    .flatMap((e) => [
      { at: e.start, d: 1 },
      { at: e.end, d: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (open += p.d));
  return max;
}

/** Most of `times` (sorted) inside any half-open window of `periodMs`. */
function maxInWindow(times: number[], periodMs: number): number {
  let max = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= periodMs) i++;
    max = Math.max(max, j - i + 1);
  }
  return max;
}

const waitFor = (check: () => Promise<boolean>, timeoutMs: number, what: string) => until(check, timeoutMs, what, 100);

async function exercise(store: Store, spec: string, dir: string) {
  // Defined once before the workers start, so their defineWorkflow calls only update.
  await store.createWorkflow(LIMITED);
  await store.createWorkflow(RATED);
  const events = join(dir, 'events.jsonl');
  writeFileSync(events, '');
  await Promise.all(['w1', 'w2', 'w3', 'w4'].map((id) => startWorker(spec, id, events)));
  const limited = (await store.createRun({ workflowId: (await store.findWorkflow('limited'))!.id })).run;
  const rated = (await store.createRun({ workflowId: (await store.findWorkflow('rated'))!.id, inputs: { provider: 'p1' } })).run;
  const expectedMs = (TASKS_PER_KEY / LIMIT) * WORK_MS + (RATED_TASKS / RATE.limit) * RATE.periodMs;
  await waitFor(
    async () => (await store.getRun(limited.id)).status === 'success' && (await store.getRun(rated.id)).status === 'success',
    20 * expectedMs,
    'both runs',
  );
  const all: Event[] = readFileSync(events, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

  // Concurrency: per key, never more than the limit at once across the four processes, and the limit used.
  const perKey = new Map<string, Event[]>();
  for (const e of all.filter((e) => e.key.startsWith('host:'))) perKey.set(e.key, [...(perKey.get(e.key) ?? []), e]);
  expect([...perKey.keys()].sort()).toEqual(Array.from({ length: KEYS }, (_, i) => `host:h${i}.example`));
  let busy = 0;
  let span = 0;
  for (const [key, events] of perKey) {
    expect(events, key).toHaveLength(TASKS_PER_KEY);
    expect(maxOverlap(events), key).toBe(LIMIT);
    busy += events.reduce((sum, e) => sum + e.end - e.start, 0);
    span += Math.max(...events.map((e) => e.end)) - Math.min(...events.map((e) => e.start));
  }
  // Throughput per key matches the limit: on average well over one task of a key ran at once, so
  // the limit is used, not held by serialising (which gives 1). The gap to 2 is the slot's handover
  // (end written, next claim): measured 1.64-1.88 on an idle machine, 1.15 at load 15 with 400 ms
  // tasks, hence 1,000 ms tasks and a bound of 1.25 that a loaded machine still meets.
  const averageConcurrency = busy / span;
  if (process.env.BATON_LIMITS_DEBUG) {
    for (const [key, events] of perKey) {
      const sorted = [...events].sort((a, b) => a.start - b.start);
      const t0 = sorted[0]!.start;
      console.log(key, sorted.map((e) => `${e.worker}:${e.start - t0}-${e.end - t0}`).join(' '));
    }
  }
  console.log(`${spec.split(':')[0]}: average tasks running per key ${averageConcurrency.toFixed(2)} (limit ${LIMIT})`);
  expect(averageConcurrency).toBeGreaterThan(1.25);
  // Every process took part: the limit is the store's, not one process's.
  expect(new Set(all.map((e) => e.worker)).size).toBeGreaterThanOrEqual(2);

  // Rate: the claim times the handlers saw (each task claimed once) never put more than N in any
  // sliding window, and the windows were used to the full. Not the handlers' start times: those
  // trail their claims by a scheduling delay no store controls (up to ~50 ms on this machine), so
  // a window of starts at an edge may hold a task or two more than the window of claims.
  const rated_ = all.filter((e) => e.key === 'api:p1');
  expect(rated_).toHaveLength(RATED_TASKS);
  const tasks = (await store.listTasks({ runId: rated.id, limit: 1000 })).items;
  expect(tasks.every((t) => t.attempt === 1)).toBe(true);
  const claims = rated_.map((e) => e.claimedAt).sort((a, b) => a - b);
  expect(claims).toEqual(tasks.map((t) => t.dispatchedAt!.getTime()).sort((a, b) => a - b));
  expect(maxInWindow(claims, RATE.periodMs)).toBe(RATE.limit);
  for (const e of rated_) expect(e.start).toBeGreaterThanOrEqual(e.claimedAt);
  // Not faster than the limit allows: 14 claims at 4 per window need three full windows between first and last.
  expect(claims.at(-1)! - claims[0]!).toBeGreaterThanOrEqual((Math.ceil(RATED_TASKS / RATE.limit) - 1) * RATE.periodMs);
}

eachStore('cluster-wide limits: four worker processes on one store', ({ it, tempStore }) => {
  it('a limit of 2 per key is never exceeded and is used to the full; a rate limit holds at window edges', async () => {
    const { store, spec } = await tempStore();
    const dir = mkdtempSync(join(tmpdir(), 'baton-limits-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    await exercise(store, spec, dir);
  }, 120_000);
});
