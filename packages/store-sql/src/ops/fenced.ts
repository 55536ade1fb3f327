import type { Lease } from '@baton/core';
import { sql, type RawBuilder } from 'kysely';
import { idParams, rowsTable, type ColumnType, type Ctx } from '../context.js';

/**
 * Parameters per statement where the rows go in as a VALUES list, a parameter
 * a value: half PostgreSQL's 65,535 limit, so a batch of ~4,600 finished tasks
 * (7 columns) is still one statement. Where the dialect passes the rows as one
 * parameter (SQLite: `jsonRows`) there is no limit to keep and every batch is
 * one statement, as the hot path's rule asks. (Chunks of 200 had made a
 * claim's 500 endings three statements; the time was the same either way,
 * 114–127 ms for 20,000 endings in four A/B pairs: the cost is per row.)
 */
const VALUES_PARAMETERS = 32_000;

/**
 * The fence every write on a leased task goes through, for many tasks in one
 * statement: a VALUES list of (task id, lease id, …) joined to the tasks,
 * updating only rows whose lease id still matches and that are still leased.
 * Returns the rows written (`id` plus `returning`); a lease not held is absent.
 * Tasks are visited in id order, locked first where the engine needs it (in
 * the same statement: no extra round trip), so two writers never wait on each
 * other in a cycle.
 */
export async function fencedUpdate<R extends object, I extends Lease>(
  ctx: Ctx,
  items: I[],
  extra: { columns: string[]; values: (item: I) => unknown[] },
  set: RawBuilder<unknown>,
  returning: RawBuilder<unknown>,
): Promise<(R & { id: string })[]> {
  const sorted = [...items].sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
  const columns = sql.raw(['id', 'lease_id', ...extra.columns].join(', '));
  // The ids typed (PostgreSQL: uuid, idParam'd); the extra columns as text, cast by `set` where needed.
  const types: ColumnType[] = ['id', 'id', ...extra.columns.map(() => 'text' as const)];
  const out: (R & { id: string })[] = [];
  const chunkSize = ctx.dialect.jsonRows ? sorted.length : Math.floor(VALUES_PARAMETERS / types.length);
  for (let i = 0; i < sorted.length; i += chunkSize) {
    const chunk = sorted.slice(i, i + chunkSize);
    const list = chunk.map((item) => [item.taskId, item.leaseId, ...extra.values(item)]);
    // Where the engine needs it, the same statement first locks the rows in id order.
    const lock = ctx.dialect.lockTasksInOrder?.(
      idParams(
        ctx,
        chunk.map((c) => c.taskId),
      ),
    );
    const { rows } = await sql<R & { id: string }>`
      with ${lock ? sql`locked as materialized (${lock}), ` : sql``}v(${columns}) as (${rowsTable(ctx, list, types)})
      update baton_tasks set ${set}
      from v ${lock ? sql`join locked on locked.id = v.id` : sql``}
      where baton_tasks.id = v.id and baton_tasks.lease_id = v.lease_id and baton_tasks.status in ('dispatched', 'running')
      returning baton_tasks.id, ${returning}`.execute(ctx.db);
    out.push(...rows);
  }
  return out;
}
