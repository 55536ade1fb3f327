import { leaseColumns, type ClaimRow, type Db, type SqlDialect } from '@baton/store-sql';

/** SQLite's side of the SQL store: JSON as text, BEGIN IMMEDIATE, and the claim. */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  types: { json: 'text', ms: 'integer', logId: 'integer' },
  encodeJson: (value) => JSON.stringify(value),
  decodeJson: (value) => (typeof value === 'string' ? JSON.parse(value) : value),
  isUniqueViolation: (error) => (error as { code?: string })?.code?.startsWith('SQLITE_CONSTRAINT_UNIQUE') === true || (error as { code?: string })?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
  transaction: (db, fn) => db.transaction().execute(fn),
  // Column affinity does the typing; a CAST to "jsonb" would give JSON text NUMERIC affinity.
  cast: (value) => value,
  claim,
};

/**
 * The pending-task query. The inner SELECT walks `baton_tasks_pending_idx`
 * (partial: pending rows only, in claim order) and stops at the limit; the
 * UPDATE leases what it found. Running inside BEGIN IMMEDIATE, no other
 * writer can interleave, so two claimers never get the same task.
 */
async function claim(db: Db, o: Parameters<SqlDialect['claim']>[1]): Promise<ClaimRow[]> {
  const tasks = await db
    .updateTable('baton_tasks')
    .set(leaseColumns(o))
    .where('id', 'in', (eb) => {
      let q = eb
        .selectFrom('baton_tasks as t')
        .innerJoin('baton_workflows as w', 'w.id', 't.workflow_id')
        .select('t.id')
        .where('t.status', '=', 'pending')
        .where('t.concurrency_key', 'is', null)
        .where('t.rate_key', 'is', null)
        .where('t.run_at', '<=', o.now)
        .where('w.status', '=', 'active');
      if (o.workflowIds) q = q.where('t.workflow_id', 'in', o.workflowIds.length ? o.workflowIds : ['']);
      if (o.excludeWorkflowIds?.length) q = q.where('t.workflow_id', 'not in', o.excludeWorkflowIds);
      return q.orderBy('t.priority', 'desc').orderBy('t.run_at').orderBy('t.id').limit(o.limit);
    })
    .returningAll()
    .execute();
  if (tasks.length === 0) return [];
  tasks.sort((a, b) => b.priority - a.priority || Number(a.run_at) - Number(b.run_at) || (a.id < b.id ? -1 : 1));
  const workflowIds = [...new Set(tasks.map((t) => t.workflow_id))];
  const runIds = [...new Set(tasks.map((t) => t.run_id))];
  const workflows = new Map(
    (await db.selectFrom('baton_workflows').selectAll().where('id', 'in', workflowIds).execute()).map((w) => [w.id, w]),
  );
  const runs = new Map(
    (await db.selectFrom('baton_runs').select(['id', 'inputs', 'triggered_by']).where('id', 'in', runIds).execute()).map((r) => [r.id, r]),
  );
  return tasks.map((task) => ({ task, workflow: workflows.get(task.workflow_id)!, run: runs.get(task.run_id)! }));
}
