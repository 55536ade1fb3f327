import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { recordPreparedSql } from '@baton/test-kit';
import { openSqliteStore } from '../src/index.js';

const RUNS = 20_000;
const BATCH = 500;

/**
 * The scheduler's hot path right after `triggerMany`, when every run is
 * pending: the claim (run starts deferred), the marks that start runs and the
 * endings reach runs by primary key only. SQLite's planner preferred
 * `baton_runs_status_idx` for `status = 'pending'` with 20,000 pending runs and
 * probed the batch's list once per pending run: a mark of 500 took 300 ms.
 * Query plans are asserted, not times (the machine is shared).
 */
describe('sqlite store: hot-path statements over many pending runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-hot-plans-'));
  const recorded = recordPreparedSql(Database);
  afterAll(() => {
    recorded.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('claims with deferred run starts, marks runs started and ends tasks, reaching runs by primary key only', async () => {
    const filename = join(dir, 'baton.db');
    const store = await openSqliteStore({ filename });
    const wf = await store.createWorkflow({ name: 'single', steps: [{ name: 'only' }] });
    await store.createRuns(Array.from({ length: RUNS }, () => ({ workflowId: wf.id })));
    recorded.statements.clear();

    const claim = () => store.claimTasks({ workerId: 'w', limit: BATCH, leaseMs: 60_000, running: true, deferRunStart: true });
    const marked = await claim();
    expect(marked).toHaveLength(BATCH);
    expect(marked.every((c) => c.runPending && !c.runStarted)).toBe(true);
    const outcomes = await store.markRunning(marked.map((c) => ({ taskId: c.task.id, leaseId: c.task.leaseId! })));
    expect(outcomes.filter((o) => o.held && o.runStarted)).toHaveLength(BATCH);
    const ended = await claim();
    const finished = await store.finishTasks(
      ended.map((c) => ({ taskId: c.task.id, leaseId: c.task.leaseId!, status: 'success', output: null })),
    );
    expect(finished.startedRuns).toHaveLength(BATCH);
    expect(finished.finishedRuns).toHaveLength(BATCH);
    const captured = recorded.stop();

    const db = new Database(filename, { readonly: true });
    const plans: { sql: string; plan: string[] }[] = [];
    for (const sql of captured) {
      if (!/baton_runs/i.test(sql) || /^(begin|commit|rollback|pragma)/i.test(sql.trim())) continue;
      const params = (sql.match(/\?/g) ?? []).map(() => null);
      plans.push({ sql, plan: (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail) });
    }
    db.close();
    // The claim's run read, the mark's run update, the finish's run read and its run update.
    expect(plans.length).toBeGreaterThanOrEqual(4);
    for (const { sql, plan } of plans) {
      const text = `${sql}\n  ${plan.join('\n  ')}`;
      // Runs by primary key (under any alias), never through a status index, never a scan.
      expect(
        plan.some((p) => /USING (COVERING )?INDEX sqlite_autoindex_baton_runs_1 \(id=\?\)/.test(p)),
        text,
      ).toBe(true);
      expect(
        plan.filter((p) => /baton_runs_\w+_idx|^SCAN (baton_runs|r)$/.test(p)),
        text,
      ).toEqual([]);
    }
    await store.close();
  });
});
