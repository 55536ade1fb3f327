import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '@baton/store-sqlite';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { recordPreparedSql } from '@baton/test-kit';
import { createDashboard } from '../src/index.js';

const RUNS = 100_000;

/**
 * The dashboard at 100k runs: every query its pages issue is a range read on
 * an index (SQLite's own query plans say so), never a scan of the runs table
 * nor a sort of it. Times are printed, not asserted (the machine is shared).
 */
describe('dashboard over 100k runs (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-dashboard-scale-'));
  // Every SQL text the store prepares, seen through better-sqlite3 (the store caches prepared statements).
  const recorded = recordPreparedSql(Database);
  afterAll(() => {
    recorded.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every run-list filter, the counts and a run from index range reads', async () => {
    const filename = join(dir, 'baton.db');
    const store = await openSqliteStore({ filename });
    const workflows = [];
    for (const name of ['etl', 'report', 'sync']) workflows.push(await store.createWorkflow({ name, steps: [{ name: 's' }] }));
    // Seeded in one statement: ids sort like UUIDv7 (creation order); statuses and triggers spread, 'user' rare.
    const raw = new Database(filename);
    const ids = workflows.map((w) => `'${w.id}'`).join(',');
    raw.exec(`
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${RUNS})
      INSERT INTO baton_runs (id, workflow_id, workflow_name, status, inputs, triggered_by, idempotency_key, error, failure_status,
        tasks_total, tasks_finished, tasks_failed, metadata, started_at, finished_at, duration_ms, created_at, updated_at)
      SELECT printf('00000000-0000-7000-8000-%012d', i),
        json_extract(json_array(${ids}), '$[' || (i % 3) || ']'),
        CASE i % 3 WHEN 0 THEN 'etl' WHEN 1 THEN 'report' ELSE 'sync' END,
        CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 97 = 0 THEN 'cancelled' ELSE 'success' END,
        '{}', CASE WHEN i % 1000 = 0 THEN 'user' WHEN i % 2 = 0 THEN 'schedule' ELSE 'api' END, NULL, NULL, NULL,
        1, 1, 0, '{}', i, i + 5, 5, i, i
      FROM n`);
    raw.exec('ANALYZE');
    raw.close();
    const dashboard = createDashboard({ store, basePath: '/' });
    const get = async (path: string) => {
      const started = performance.now();
      const res = await dashboard.fetch(new Request(`http://127.0.0.1${path}`));
      const body = (await res.json()) as { items?: { id: string }[]; nextCursor?: string | null };
      console.log(`${path.padEnd(70)} ${res.status} ${(performance.now() - started).toFixed(1)} ms`);
      expect(res.status).toBe(200);
      return body;
    };
    const [etl] = workflows;
    recorded.statements.clear();
    const first = await get('/api/runs');
    expect(first.items).toHaveLength(50);
    expect(first.items![0]!.id).toBe(`00000000-0000-7000-8000-${String(RUNS).padStart(12, '0')}`);
    const second = await get(`/api/runs?cursor=${first.nextCursor}`);
    expect(second.items![0]!.id < first.items![49]!.id).toBe(true);
    expect((await get('/api/runs?status=failed')).items).toHaveLength(50);
    expect((await get(`/api/runs?workflowId=${etl!.id}`)).items).toHaveLength(50);
    expect((await get(`/api/runs?workflowId=${etl!.id}&status=cancelled`)).items!.length).toBeGreaterThan(0);
    expect((await get('/api/runs?triggeredBy=user')).items).toHaveLength(50);
    expect((await get(`/api/runs?workflowId=${etl!.id}&triggeredBy=user`)).items!.length).toBeGreaterThan(0);
    const wfs = (await get('/api/workflows')) as unknown as { items: { name: string; counts: { [s: string]: number } }[] };
    const total = wfs.items.reduce((sum, w) => sum + Object.values(w.counts).reduce((a, b) => a + b, 0), 0);
    expect(total).toBe(RUNS);
    await get(`/api/runs/${first.items![0]!.id}`);

    const captured = recorded.stop();
    const db = new Database(filename, { readonly: true });
    const plans: { sql: string; plan: string[] }[] = [];
    for (const sql of captured) {
      if (!/from "baton_runs"/i.test(sql) || !/^select/i.test(sql)) continue;
      const params = (sql.match(/\?/g) ?? []).map(() => null);
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
      plans.push({ sql, plan });
    }
    db.close();
    expect(plans.length).toBeGreaterThanOrEqual(7);
    for (const { sql, plan } of plans) {
      const text = `${sql}\n  ${plan.join('\n  ')}`;
      // No full scan of the table, no sort of its rows: SEARCH on an index, or a walk of an index in order under LIMIT.
      expect(
        plan.some((p) => /^SCAN baton_runs$/.test(p)),
        text,
      ).toBe(false);
      // A sort only of one limited arm of a union (a workflow's runs of one status: a page at most), never of the table.
      const sorted = plan.flatMap((p, i) => (/TEMP B-TREE FOR ORDER BY/.test(p) ? [plan[i - 1] ?? ''] : []));
      expect(
        sorted.every((p) => /^SCAN s\d+$/.test(p)),
        text,
      ).toBe(true);
      if (/group by/i.test(sql))
        expect(plan.join(' '), text).toMatch(/SEARCH baton_runs USING COVERING INDEX baton_runs_workflow_status_idx/);
      else if (/where/i.test(sql) && !/"id" = \?/.test(sql))
        expect(plan.join(' '), text).toMatch(/SEARCH baton_runs USING INDEX|SCAN baton_runs USING INDEX/);
    }
    await store.close();
  });
});
