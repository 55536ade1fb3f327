import { sql } from 'kysely';
import type { ClaimRow, LeaseOptions } from './dialect.js';

/**
 * What a claim writes on each task it leases from its own values (see
 * ClaimOptions.running): each dialect's claim writes these, and its rows, which
 * do not carry them back (`leaseReturns`), are filled in from here. A claim of
 * 500 sent back ~130 bytes a row of them on PostgreSQL (a lease id and owner, a
 * status, four times), each field parsed by the driver on the critical path of
 * the next claim; on SQLite each is a property better-sqlite3 sets on every row.
 * `execution_name` stays: a retry may resume it. `attempt` is not here: the
 * claim counts it up from the stored value, so it travels back.
 */
export function leaseValues(o: LeaseOptions): Partial<ClaimRow['task']> {
  const values = {
    status: o.running ? 'running' : 'dispatched',
    lease_id: o.leaseId,
    lease_owner: o.workerId,
    lease_expires_at: o.now + o.leaseMs,
    dispatched_at: o.now,
    updated_at: o.now,
  };
  return o.running ? { ...values, started_at: o.now } : values;
}

/** Every column of baton_tasks but those `leaseValues` gives. */
const RETURNED = [
  'id',
  'run_id',
  'workflow_id',
  'step_name',
  'position',
  'task_index',
  'task_count',
  'params',
  'output',
  'error',
  'execution_name',
  'priority',
  'run_at',
  'attempt',
  'max_attempts',
  'metadata',
  'workspace',
  'finished_at',
  'created_at',
  'concurrency_key',
  'concurrency_limit',
  'rate_key',
  'rate_limit',
  'rate_period_ms',
] as const;

/** The columns a claim's RETURNING lists (`prefix`: a table alias such as `t.`): what it did not write from its own values. */
export function leaseReturns(o: { running?: boolean }, prefix = ''): string {
  const columns = o.running ? RETURNED : [...RETURNED, 'started_at'];
  return columns.map((c) => prefix + c).join(', ');
}

/** The claim's SET list: the attempt counted up, and `leaseValues`. */
export function leaseSet(o: LeaseOptions) {
  const values = Object.entries(leaseValues(o)).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  return sql`attempt = attempt + 1, ${sql.join(values)}`;
}
