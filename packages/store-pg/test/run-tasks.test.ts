import { afterAll, describe, expect, it } from 'vitest';
import { openPgStore } from '@baton/store-pg';
import { PG_URL, dropSchemas, migrateDownTo, pgAvailable, query, schemaName } from './pg.js';

const available = await pgAvailable();
const schemas = new Set<string>();
afterAll(() => dropSchemas(schemas));

const indexes = async (schema: string) =>
  (
    await query<{ indexname: string }>(`select indexname from pg_indexes where schemaname = $1 and tablename = 'baton_tasks'`, [schema])
  ).map((r) => r.indexname);

describe.skipIf(!available)('pg store: a run’s task order in baton_run_tasks (migration 011)', () => {
  it('a store made before 011 gets every run’s order from its tasks: listed in order, paged, cancelled, retried; deleted with the run; down puts the index back', async () => {
    const schema = schemaName('baton_order');
    schemas.add(schema);
    let store = await openPgStore({ connectionString: PG_URL, schema });
    const wf = await store.createWorkflow({
      name: 'fan',
      steps: [
        { name: 'a', taskCount: 3 },
        { name: 'b', dependsOn: ['a'] },
        { name: 'c', taskCount: 2, dependsOn: ['b'] },
      ],
    });
    const { run } = await store.createRun({ workflowId: wf.id });
    const { run: other } = await store.createRun({ workflowId: wf.id });
    const claimed = (await store.claimTasks({ workerId: 'w', limit: 6, leaseMs: 60_000 })).filter((c) => c.task.runId === run.id);
    await store.close();

    // Down to 010: the order table goes, the index by run comes back.
    const down = await migrateDownTo(schema, '010_pg_tasks_fillfactor');
    expect(down.map((r) => [r.migrationName, r.direction, r.status])).toEqual([['011_run_tasks', 'Down', 'Success']]);
    expect(await indexes(schema)).toContain('baton_tasks_run_order_idx');
    expect(await query(`select to_regclass($1) as t`, [`${schema}.baton_run_tasks`])).toEqual([{ t: null }]);

    // Opening migrates up again: the order rows are rebuilt from the tasks, the index goes.
    store = await openPgStore({ connectionString: PG_URL, schema });
    expect(await indexes(schema)).not.toContain('baton_tasks_run_order_idx');
    const order = async (runId: string) =>
      (await query<{ n: number }>(`select count(*)::int as n from ${schema}.baton_run_tasks where run_id = $1`, [runId]))[0]!.n;
    expect([await order(run.id), await order(other.id)]).toEqual([6, 6]);
    const first = await store.listTasks({ runId: run.id, limit: 4 });
    const second = await store.listTasks({ runId: run.id, limit: 4, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((t) => `${t.stepName}${t.taskIndex}`)).toEqual(['a0', 'a1', 'a2', 'b0', 'c0', 'c1']);
    expect(second.nextCursor).toBeNull();

    // The leases taken before still fence, and step outputs come in task order.
    const ended = await store.finishTasks(
      claimed.map((c) => ({ taskId: c.task.id, leaseId: c.task.leaseId!, status: 'success', output: c.task.taskIndex })),
    );
    expect(ended.readyTasks).toBe(1);
    expect(await store.getStepOutputs(run.id, ['a'])).toEqual({ a: [0, 1, 2] });
    await store.cancelRun(run.id);
    expect((await store.listTasks({ runId: run.id })).items.map((t) => t.status)).toEqual([
      'success',
      'success',
      'success',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect((await store.listTasks({ runId: other.id })).items.every((t) => t.status !== 'cancelled')).toBe(true);
    await store.retryRun(run.id);
    expect((await store.listTasks({ runId: run.id, stepName: 'b' })).items.map((t) => t.status)).toEqual(['pending']);

    await query(`delete from ${schema}.baton_runs where id = $1`, [run.id]);
    expect([await order(run.id), await order(other.id)]).toEqual([0, 6]);
    await store.close();
  });
});
