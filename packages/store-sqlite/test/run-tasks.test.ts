import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '@baton/store-sql';
import { recordPreparedSql } from '@baton/test-kit';
import { openSqliteStore, sqliteDialect } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-run-tasks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Kysely's Migrator on the file, as SqlStore builds it, stepping back to `name`. */
async function migrateDownTo(filename: string, name: string) {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(filename) }) });
  try {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => migrations(sqliteDialect) },
      migrationTableName: 'baton_migrations',
      migrationLockTableName: 'baton_migrations_lock',
    });
    const { error, results } = await migrator.migrateTo(name);
    if (error) throw error;
    return results ?? [];
  } finally {
    await db.destroy();
  }
}

describe('sqlite store: a run’s task order in baton_run_tasks (migration 011)', () => {
  it('a file made before 011 gets every run’s order from its tasks, in a WITHOUT ROWID table that goes with its run', async () => {
    const filename = join(dir, 'baton.db');
    let store = await openSqliteStore({ filename });
    const wf = await store.createWorkflow({
      name: 'fan',
      steps: [
        { name: 'a', taskCount: 3 },
        { name: 'b', dependsOn: ['a'] },
      ],
    });
    const { run } = await store.createRun({ workflowId: wf.id });
    const { run: other } = await store.createRun({ workflowId: wf.id });
    await store.close();

    const down = await migrateDownTo(filename, '010_pg_tasks_fillfactor');
    expect(down.map((r) => [r.migrationName, r.direction, r.status])).toEqual([['011_run_tasks', 'Down', 'Success']]);
    const file = new Database(filename, { readonly: true });
    const objects = () =>
      file.prepare(`select name, sql from sqlite_master where name in ('baton_run_tasks', 'baton_tasks_run_order_idx')`).all();
    expect(objects()).toEqual([{ name: 'baton_tasks_run_order_idx', sql: expect.any(String) }]);

    store = await openSqliteStore({ filename });
    const [table] = objects() as { name: string; sql: string }[];
    expect(table!.name).toBe('baton_run_tasks');
    expect(table!.sql).toMatch(/without rowid/i);
    expect(objects()).toHaveLength(1);
    const recorded = recordPreparedSql(Database);
    const first = await store.listTasks({ runId: run.id, limit: 3 });
    const second = await store.listTasks({ runId: run.id, limit: 3, cursor: first.nextCursor! });
    expect(await store.getStepOutputs(run.id, ['a'])).toEqual({ a: [] });
    await store.cancelRun(run.id);
    await store.retryRun(run.id);
    const reads = recorded.stop().filter((sql) => /baton_run_tasks/.test(sql));
    expect([...first.items, ...second.items].map((t) => `${t.stepName}${t.taskIndex}`)).toEqual(['a0', 'a1', 'a2', 'b0']);
    // Listing (first page and after a cursor), step outputs, cancel, retry's count and its updates
    // (one text, prepared once): each finds the run's tasks through the table's key, no other run's.
    expect(reads).toHaveLength(6);
    for (const sql of reads) {
      const params = (sql.match(/\?/g) ?? []).map(() => null);
      const plan = (file.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[]).map((p) => p.detail).join('\n');
      expect(plan, sql).toMatch(/SEARCH (o|baton_run_tasks) USING PRIMARY KEY \(run_id=\?/);
      expect(plan, sql).not.toMatch(/SCAN (t|baton_tasks)\b/);
    }
    file.close();

    expect((await store.listTasks({ runId: other.id })).items.map((t) => t.status)).toEqual(['pending', 'pending', 'pending', 'waiting']);
    const direct = new Database(filename);
    direct.pragma('foreign_keys = ON');
    direct.prepare('delete from baton_runs where id = ?').run(run.id);
    const count = (runId: string) =>
      (direct.prepare('select count(*) as n from baton_run_tasks where run_id = ?').get(runId) as { n: number }).n;
    expect([count(run.id), count(other.id)]).toEqual([0, 4]);
    direct.close();
    await store.close();
  });
});
