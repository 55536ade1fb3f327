import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';

const exec = promisify(execFile);
const benchDir = fileURLToPath(new URL('../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'baton-bench-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function bench(args: string[], dir: string) {
  const { stdout } = await exec(
    process.execPath,
    ['--conditions=baton-source', '--import', 'tsx', 'src/main.ts', '--quick', '--out', dir, ...args],
    {
      cwd: benchDir,
      timeout: 120_000,
      maxBuffer: 10 * 1024 * 1024,
    },
  );
  return { stdout, results: JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) };
}

async function pgUp(): Promise<boolean> {
  const c = new pg.Client({
    connectionString: process.env.BATON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    connectionTimeoutMillis: 2000,
  });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('CI=true but PostgreSQL is unreachable');
    console.warn('!!! bench test: PostgreSQL unreachable, its part is skipped');
    return false;
  }
}

describe('bench (quick mode) keeps working', () => {
  it('measures SQLite and file claims, SQLite throughput beside plainjob and raw, and memory, and writes the reports', async () => {
    const dir = join(out, 'sqlite');
    const { stdout, results } = await bench(
      ['--stores', 'sqlite,file', '--only', 'claim,throughput,memory', '--tasks', '500', '--sizes', '1000,3000', '--rounds', '2'],
      dir,
    );
    expect(stdout).toContain('== Summary');
    const rows = results.throughput.map((t: { system: string; shape: string }) => `${t.system} ${t.shape}`);
    expect(rows).toEqual(['baton fanout', 'baton singles', 'raw jobs', 'plainjob jobs']);
    // Two rounds: every system measured in each, its row one of them.
    for (const t of results.throughput as { processPerSec: number; rounds: { processPerSec: number }[] }[]) {
      expect(t.rounds).toHaveLength(2);
      expect(t.rounds.map((r) => r.processPerSec)).toContain(t.processPerSec);
    }
    for (const t of results.throughput) expect(t.processPerSec).toBeGreaterThan(0);
    // Every system is charged the CPU of its processing window: its workers run in the bench process.
    for (const t of results.throughput as { cpuUsPerJob?: { process: number; other?: number } }[]) {
      expect(t.cpuUsPerJob?.process).toBeGreaterThan(0);
      expect(t.cpuUsPerJob?.other).toBeGreaterThanOrEqual(0);
    }
    expect(results.throughput[1].triggerCallsPerSec).toBeGreaterThan(0);
    expect(results.claim.filter((c: { store: string }) => c.store === 'sqlite')).toHaveLength(4);
    expect(results.claim.every((c: { p50Ms: number; p99Ms: number }) => c.p50Ms > 0 && c.p99Ms >= c.p50Ms)).toBe(true);
    expect(results.memory.peakRssMb).toBeGreaterThan(10);
    expect(results.ratios.sqlite.fanout.plainjob).toBeGreaterThan(0);
    expect(results.ratios.sqlite.singles.plainjob).toBeGreaterThan(0);
    expect(stdout).toContain('sqlite.singles.plainjob');
    expect(readFileSync(join(dir, 'latest.md'), 'utf8')).toContain('| plainjob | sqlite |');
    expect(readFileSync(join(dir, 'latest.svg'), 'utf8')).toContain('<svg');
  });

  it('runs the PostgreSQL peers (graphile-worker, pg-boss, raw) and records the claim plan', async () => {
    if (!(await pgUp())) return;
    const dir = join(out, 'pg');
    const { results } = await bench(['--stores', 'pg', '--only', 'claim,throughput', '--tasks', '300', '--sizes', '20000'], dir);
    expect(results.throughput.map((t: { system: string; shape: string }) => `${t.system} ${t.shape}`)).toEqual([
      'baton fanout',
      'baton singles',
      'raw jobs',
      'graphile-worker jobs',
      'pg-boss jobs',
    ]);
    expect(results.pgClaimPlan).toContain('baton_tasks_pending_idx');
    // Every system's processing is charged the WAL it wrote: each job's completion is a write,
    // so a meter read around the wrong window (or never) shows up as nothing or under 50 bytes a job.
    for (const row of results.throughput as { system: string; walBytesPerJob?: number }[])
      expect(row.walBytesPerJob, row.system).toBeGreaterThan(50);
    expect(results.ratios.pg.fanout.graphileWorker).toBeGreaterThan(0);
    expect(results.ratios.pg.singles.graphileWorker).toBeGreaterThan(0);
    expect(results.ratios.pg.enqueue.triggerManyVsGraphileWorker).toBeGreaterThan(0);
    expect(results.throughput.find((t: { system: string }) => t.system === 'graphile-worker').config).toContain(
      '"localQueue":{"size":500}',
    );
    // The raw loop is the ceiling: it claims at the batch Baton and graphile-worker take, not 50.
    expect(results.throughput.find((t: { system: string }) => t.system === 'raw').config).toBe('batch 500, 2 loops, SKIP LOCKED, pool 2');
  });
});
