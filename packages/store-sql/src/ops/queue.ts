import {
  LEASED_TASK_STATUSES,
  type ClaimOptions,
  type ClaimedTask,
  type Lease,
  type LeaseState,
  type MarkOutcome,
  type RecoveredTask,
  type RunningMark,
} from '@baton/core';
import { leaseExpiredMessage, newId } from '@baton/core/store-kit';
import { sql } from 'kysely';
import { rowsTable, type Ctx } from '../context.js';
import { fencedUpdate } from './fenced.js';
import { nowMs } from '../rows.js';
import { finishTasks } from './finish.js';
import { claimLimitedTasks } from './limits.js';

/** The pending-task query; the dialect owns the statement (see its `claim`). */
export async function claimTasks(ctx: Ctx, options: ClaimOptions): Promise<ClaimedTask[]> {
  // Tasks under a cluster-wide limit first (nothing, at no cost, on a store that never planned one).
  const limited = await claimLimitedTasks(ctx, { ...options, leaseId: newId(), now: nowMs() });
  const rest = options.limit - limited.length;
  const claim = (ctx: Ctx) => ctx.dialect.claim(ctx.db, { ...options, limit: rest, leaseId: newId(), now: nowMs() });
  const plain = rest <= 0 ? [] : ctx.dialect.claimIsOneStatement ? await claim(ctx) : await ctx.tx(claim);
  const rows = limited.length === 0 ? plain : [...limited, ...plain];
  // One decode per workflow, not per task: a batch usually shares a few workflows.
  const workflows = new Map<string, ClaimedTask['workflow']>();
  // A run this claim started says so on its first task only (the dialect marks every row of it).
  const startedRuns = new Set<string>();
  return rows.map(({ task, workflow, run, runStarted, runPending }) => {
    let wf = workflows.get(workflow.id);
    if (!wf) workflows.set(workflow.id, (wf = ctx.rows.workflow(workflow)));
    const first = runStarted && !startedRuns.has(run.id);
    if (first) startedRuns.add(run.id);
    return {
      task: ctx.rows.task(task),
      workflow: wf,
      run: { id: run.id, inputs: ctx.rows.json(run.inputs), triggeredBy: run.triggered_by as ClaimedTask['run']['triggeredBy'] },
      runStarted: first,
      runPending,
    };
  });
}

/**
 * The "running" marks, fenced, and the runs they start (pending → running,
 * started at their earliest mark; RETURNING says which): three statements per
 * batch, or the dialect's one (PostgreSQL). A task already `running` under its
 * lease with no execution to name (a claim that deferred its run's start) is
 * read, not rewritten: the mark is there to start its run. Runs are updated in
 * id order.
 */
export async function markRunning(ctx: Ctx, items: RunningMark[]): Promise<MarkOutcome[]> {
  if (items.length === 0) return [];
  if (ctx.dialect.markRunning) return ctx.dialect.markRunning(ctx.db, items, nowMs());
  return ctx.tx(async (ctx) => {
    const now = nowMs();
    const at = ctx.dialect.cast(sql`${now}`, 'ms');
    const { rows: current } = await sql<{
      id: string;
      run_id: string;
      status: string;
      lease_id: string | null;
      started_at: number | string | null;
    }>`
      with v(id) as (${rowsTable(
        ctx,
        items.map((i) => [i.taskId]),
        ['id'],
      )})
      select t.id, t.run_id, t.status, t.lease_id, t.started_at from baton_tasks t where t.id in (select id from v)`.execute(ctx.db);
    const byId = new Map(current.map((t) => [t.id, t]));
    const kept = (item: RunningMark) => {
      const t = byId.get(item.taskId);
      return item.executionName === undefined && t?.status === 'running' && t.lease_id === item.leaseId ? t : undefined;
    };
    const keptRows = items.map(kept);
    const toWrite = items.filter((_, i) => !keptRows[i]);
    const rows =
      toWrite.length === 0
        ? []
        : await fencedUpdate<{ run_id: string; started_at: number | string }, RunningMark>(
            ctx,
            toWrite,
            { columns: ['execution_name', 'started_at'], values: (item) => [item.executionName ?? null, item.startedAt?.getTime() ?? now] },
            sql`status = 'running', started_at = ${ctx.dialect.cast(sql`v.started_at`, 'ms')}, execution_name = v.execution_name, updated_at = ${at}`,
            sql`baton_tasks.run_id, baton_tasks.started_at`,
          );
    const written = new Map(rows.map((r) => [r.id, r.run_id]));
    const starts = new Map<string, number>();
    const start = (runId: string, startedAt: number) => starts.set(runId, Math.min(starts.get(runId) ?? Infinity, startedAt));
    for (const r of rows) start(r.run_id, Number(r.started_at));
    for (const t of keptRows) {
      if (!t) continue;
      written.set(t.id, t.run_id);
      start(t.run_id, Number(t.started_at ?? now));
    }
    const started = new Set<string>();
    if (starts.size > 0) {
      const rows = [...starts].sort(([a], [b]) => (a < b ? -1 : 1));
      // `status || ''` keeps SQLite off baton_runs_status_idx: right after triggerMany of 20,000
      // runs, all pending, it walked that index and probed the batch's list for each pending
      // run (300 ms for a mark of 500); by primary key the whole mark of 500 costs 5–9 ms.
      const { rows: runs } = await sql<{ id: string }>`
        with v(id, started_at) as (${rowsTable(ctx, rows, ['id', 'ms'])})
        update baton_runs set status = 'running', started_at = v.started_at, updated_at = ${at}
        from v where baton_runs.id = v.id and baton_runs.status || '' = 'pending'
        returning baton_runs.id`.execute(ctx.db);
      for (const r of runs) started.add(r.id);
    }
    // A run started says so on its first mark only.
    return items.map((item) => {
      const runId = written.get(item.taskId);
      const runStarted = runId !== undefined && started.delete(runId);
      return { held: runId !== undefined, runStarted };
    });
  });
}

export async function heartbeat(ctx: Ctx, leases: Lease[], leaseMs: number): Promise<LeaseState[]> {
  if (leases.length === 0) return [];
  return ctx.tx(async (ctx) => {
    const expires = ctx.dialect.cast(sql`${nowMs() + leaseMs}`, 'ms');
    const rows = await fencedUpdate<{ run_status: string }, Lease>(
      ctx,
      leases,
      { columns: [], values: () => [] },
      sql`lease_expires_at = ${expires}`,
      sql`(select r.status from baton_runs r where r.id = baton_tasks.run_id) as run_status`,
    );
    const states = new Map(rows.map((r) => [r.id, r.run_status === 'cancelled' ? ('cancelled' as const) : ('held' as const)]));
    return leases.map((lease) => states.get(lease.taskId) ?? 'lost');
  });
}

export async function releaseTasks(ctx: Ctx, leases: Lease[]): Promise<number> {
  if (leases.length === 0) return 0;
  return ctx.tx(async (ctx) => {
    const now = ctx.dialect.cast(sql`${nowMs()}`, 'ms');
    const rows = await fencedUpdate<object, Lease>(
      ctx,
      leases,
      { columns: [], values: () => [] },
      sql`status = 'pending', attempt = baton_tasks.attempt - 1, lease_id = null, lease_owner = null, lease_expires_at = null, run_at = ${now}, updated_at = ${now}`,
      sql`baton_tasks.run_id`,
    );
    if (rows.length > 0) await ctx.dialect.notifyTasksReady?.(ctx.db);
    return rows.length;
  });
}

/**
 * Expired leases with attempts left go back to pending; the rest fail through
 * finishTasks, so that their runs roll up like any failure.
 *
 * A frozen worker (SIGSTOP, a paused VM, a partition) may hold row locks on its
 * own tasks, or on a run, mid-transaction. Recovery never waits for it: rows
 * are picked with SKIP LOCKED (a locked row is skipped now and taken back at a
 * later pass, once the server ends that session), requeueing touches task rows
 * only, and the failures of exhausted tasks, which lock their runs, commit
 * apart under a short lock timeout so that a locked run cannot hold back the
 * requeue. A requeued task keeps its `run_at`, so it goes back to its old
 * place in the queue, not behind everything queued since.
 */
export async function recoverExpiredLeases(ctx: Ctx, now: Date | undefined): Promise<RecoveredTask[]> {
  const at = now?.getTime() ?? nowMs();
  const expired = (ctx: Ctx, attemptsLeft: boolean) => {
    let q = ctx.db
      .selectFrom('baton_tasks')
      .select(['id', 'run_id', 'lease_id', 'attempt'])
      .where('status', 'in', LEASED_TASK_STATUSES)
      .where('lease_expires_at', '<', at)
      .where((eb) => (attemptsLeft ? eb('attempt', '<', eb.ref('max_attempts')) : eb('attempt', '>=', eb.ref('max_attempts'))))
      .orderBy('id')
      .limit(RECOVER_BATCH);
    if (ctx.dialect.rowLocks) q = q.forUpdate().skipLocked();
    return q.execute();
  };
  const requeued = await ctx.tx(async (ctx) => {
    await ctx.dialect.boundLockWait?.(ctx.db, RECOVER_LOCK_WAIT_MS);
    const rows = await expired(ctx, true);
    if (rows.length === 0) return [];
    await ctx.db
      .updateTable('baton_tasks')
      .set({ status: 'pending', lease_id: null, lease_owner: null, lease_expires_at: null, updated_at: at })
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    await ctx.dialect.notifyTasksReady?.(ctx.db);
    return rows;
  });
  const exhausted = await ctx.tx(async (ctx) => {
    await ctx.dialect.boundLockWait?.(ctx.db, RECOVER_LOCK_WAIT_MS);
    const rows = await expired(ctx, false);
    if (rows.length > 0) {
      await finishTasks(
        ctx,
        rows.map((t) => ({
          taskId: t.id,
          leaseId: t.lease_id!,
          status: 'failed' as const,
          error: leaseExpiredMessage(t.attempt),
        })),
      );
    }
    return rows;
  });
  return [
    ...requeued.map((t) => ({ taskId: t.id, runId: t.run_id, status: 'pending' as const })),
    ...exhausted.map((t) => ({ taskId: t.id, runId: t.run_id, status: 'failed' as const })),
  ];
}

/** Expired leases taken back per pass (per kind): one pass stays short; the next takes the rest. */
const RECOVER_BATCH = 1000;
/** Recovery's own bound on a lock wait; a pass that gives up is retried at the next tick. */
const RECOVER_LOCK_WAIT_MS = 1000;
