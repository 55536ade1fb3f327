import { afterAll, describe, expect, it } from 'vitest';
import { openPgStore } from '@baton/store-pg';
import { PG_URL, dropSchemas, migrateDownTo, pgAvailable, query, schemaName } from './pg.js';

const available = await pgAvailable();
const schemas = new Set<string>();
afterAll(() => dropSchemas(schemas));

/** The types of 007's columns in `schema`, as `table.column: type`. */
async function idTypes(schema: string): Promise<Record<string, string>> {
  const rows = await query<{ name: string; data_type: string }>(
    `select table_name || '.' || column_name as name, data_type from information_schema.columns
     where table_schema = $1 and (column_name in ('id', 'run_id', 'workflow_id', 'lease_id'))
       and table_name in ('baton_workflows', 'baton_runs', 'baton_run_steps', 'baton_tasks', 'baton_logs')
       and not (table_name = 'baton_logs' and column_name = 'id')`,
    [schema],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.data_type]));
}

/** Back to 006, down over 007 and everything after it. */
async function migrateDownTo006(schema: string): Promise<void> {
  const results = await migrateDownTo(schema, '006_drop_tasks_step_idx');
  expect(results.at(-1)).toMatchObject({ migrationName: '007_pg_uuid_ids', status: 'Success' });
}

describe.skipIf(!available)('pg store: ids are uuid (migration 007)', () => {
  it('a store made with text ids converts in place: runs, tasks, held leases, logs and foreign keys survive; down converts back', async () => {
    const schema = schemaName('baton_uuid');
    schemas.add(schema);
    let store = await openPgStore({ connectionString: PG_URL, schema });
    const wf = await store.createWorkflow({
      name: 'fan',
      steps: [
        { name: 'a', taskCount: 3 },
        { name: 'b', dependsOn: ['a'] },
      ],
    });
    const { run } = await store.createRun({ workflowId: wf.id });
    const { run: doomed } = await store.createRun({ workflowId: wf.id });
    const claimed = (await store.claimTasks({ workerId: 'w', limit: 6, leaseMs: 60_000 })).filter((c) => c.task.runId === run.id);
    expect(claimed).toHaveLength(3);
    await store.appendLogs([{ runId: run.id, taskId: claimed[0]!.task.id, type: 'info', content: 'before' }]);
    await store.close();

    // Back to the text ids of 001…006, with this data in it; then opening migrates up again.
    await migrateDownTo006(schema);
    expect(new Set(Object.values(await idTypes(schema)))).toEqual(new Set(['text']));
    store = await openPgStore({ connectionString: PG_URL, schema });
    const types = await idTypes(schema);
    expect(Object.keys(types)).toHaveLength(9);
    expect(new Set(Object.values(types))).toEqual(new Set(['uuid']));

    // The leases taken before the conversion still fence: the right ones finish, and the
    // dependent is made ready in the same call.
    const ended = await store.finishTasks(
      claimed.map((c) => ({ taskId: c.task.id, leaseId: c.task.leaseId!, status: 'success', output: c.task.taskIndex })),
    );
    expect(ended.outcomes.every((o) => o.accepted)).toBe(true);
    expect(ended.readyTasks).toBe(1);
    expect(await store.getStepOutputs(run.id, ['a'])).toEqual({ a: [0, 1, 2] });
    expect((await store.listLogs(run.id)).items.map((l) => [l.content, l.taskId])).toEqual([['before', claimed[0]!.task.id]]);
    expect((await store.getRun(doomed.id)).tasksTotal).toBe(4);

    // The foreign keys came back, with their cascades, but for the three migration 009 makes
    // triggers again on the way up (a run's tasks and logs go with it by 009's trigger).
    const fks = await query<{ conname: string; confdeltype: string }>(
      `select conname, confdeltype from pg_constraint where contype = 'f' and connamespace = $1::regnamespace order by conname`,
      [schema],
    );
    expect(fks.map((f) => [f.conname, f.confdeltype])).toEqual([['baton_run_steps_run_id_fkey', 'c']]);
    await query(`delete from ${schema}.baton_runs where id = $1`, [doomed.id]);
    expect(await query(`select id from ${schema}.baton_tasks where run_id = $1`, [doomed.id])).toEqual([]);
    expect(await query(`select run_id from ${schema}.baton_run_steps where run_id = $1`, [doomed.id])).toEqual([]);
    expect(await query(`select run_id from ${schema}.baton_logs where run_id = $1`, [doomed.id])).toEqual([]);
    await store.close();
  });
});
