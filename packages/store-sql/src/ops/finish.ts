import type { FinishResult, FinishedRun, TaskResult, TaskStatus } from '@baton/core';
import type { RunDelta } from '@baton/core/store-kit';
import {
  endedTaskError,
  finishOutcomes,
  firstListings,
  foldEndings,
  runDurationMs,
  runEndStatus,
  upstreamFailedMessage,
} from '@baton/core/store-kit';
import { sql } from 'kysely';
import { bumped, idParams, rowsTable, type ColumnType, type Ctx } from '../context.js';
import { fencedUpdate } from './fenced.js';
import { nowMs } from '../rows.js';

/** A task row as the fenced write left it. */
interface Written {
  id: string;
  run_id: string;
  step_name: string;
  status: string;
  error: string | null;
  started_at: number | string | null;
}

/**
 * Ends attempts and does all that follows in the same transaction: fencing,
 * unblocking dependents, cancelling downstream of a failure, and rolling the
 * runs up, by core's roll-up rules (`@baton/core` rollup.ts).
 *
 * A batch costs a constant number of statements however many runs and steps
 * it spans: the fenced write (see fencedUpdate), then one statement each
 * for step successes, dependents' counters, tasks made ready, downstream
 * cancelled, run counters and run ends, each a multi-row UPDATE … FROM
 * (VALUES …), skipped when it has nothing to do. A dialect that can do it all
 * in one statement (PostgreSQL: data-modifying CTEs) provides `finishTasks`.
 *
 * Statement order: tasks by id (the fence), run steps, the dependents'
 * waiting tasks, runs by id. On SQLite, the engine this path serves, the
 * write lock serializes whole transactions, so no order of rows can deadlock;
 * PostgreSQL's one-statement finish keeps its own (store-pg `ops/finish.ts`).
 */
export async function finishTasks(ctx: Ctx, results: TaskResult[]): Promise<FinishResult> {
  if (results.length === 0) return { outcomes: [], finishedRuns: [], startedRuns: [], readyTasks: 0 };
  if (ctx.dialect.finishTasks) return ctx.dialect.finishTasks(ctx.db, results, nowMs());
  return ctx.tx(async (ctx) => {
    const now = nowMs();
    const written = new Map<string, Written>();
    const firsts = firstListings(results);
    for (const row of await writeResults(ctx, firsts, now)) written.set(row.id, row);
    const refused = firsts.filter((r) => !written.has(r.taskId)).map((r) => r.taskId);
    const current = new Map<string, string>();
    if (refused.length > 0) {
      for (const row of await ctx.db.selectFrom('baton_tasks').select(['id', 'status']).where('id', 'in', idParams(ctx, refused)).execute())
        current.set(row.id, row.status);
    }
    const outcomes = finishOutcomes(results, (id) => written.get(id)?.status, current);
    // In the call's order: the roll-up keeps the first failure listed.
    const endings = firsts.flatMap((r) => written.get(r.taskId) ?? []);
    let readyTasks = endings.filter((e) => e.status === 'pending').length;
    const deltas = foldEndings(
      endings.map((e) => ({
        runId: e.run_id,
        stepName: e.step_name,
        status: e.status as TaskStatus,
        error: e.error,
        startedAt: e.started_at === null ? null : Number(e.started_at),
      })),
    );
    readyTasks += await unblockDependents(ctx, deltas, now);
    const cancelled = await cancelDownstream(ctx, deltas, now);
    const { finishedRuns, startedRuns } = await rollUpRuns(ctx, deltas, cancelled, now);
    if (readyTasks > 0) await ctx.dialect.notifyTasksReady?.(ctx.db);
    return { outcomes, finishedRuns, startedRuns, readyTasks };
  });
}

/** The fenced write of many endings (see fencedUpdate). */
async function writeResults(ctx: Ctx, results: TaskResult[], now: number) {
  const { dialect } = ctx;
  const at = dialect.cast(sql`${now}`, 'ms');
  const runCancelled = sql`(select r.status from baton_runs r where r.id = baton_tasks.run_id) = 'cancelled'`;
  return fencedUpdate<Omit<Written, 'id'>, TaskResult>(
    ctx,
    results,
    {
      columns: ['status', 'output', 'error', 'retry_at', 'started_at'],
      values: (r) => {
        const retryAt = r.status !== 'cancelled' && 'retryAt' in r && r.retryAt ? r.retryAt.getTime() : null;
        return [
          retryAt !== null ? 'pending' : r.status,
          r.status === 'success' ? dialect.encodeJson(r.output) : null,
          endedTaskError(r),
          retryAt,
          r.startedAt?.getTime() ?? null,
        ];
      },
    },
    sql`
      status = case when ${runCancelled} then 'cancelled' else v.status end,
      output = ${dialect.cast(sql`v.output`, 'json')},
      error = v.error,
      run_at = coalesce(${dialect.cast(sql`v.retry_at`, 'ms')}, baton_tasks.run_at),
      -- The run's status is looked up once per task, a second time only for a retry.
      finished_at = case when v.status <> 'pending' then ${at} when ${runCancelled} then ${at} end,
      started_at = coalesce(${dialect.cast(sql`v.started_at`, 'ms')}, baton_tasks.started_at, baton_tasks.dispatched_at),
      lease_id = null, lease_owner = null, lease_expires_at = null,
      updated_at = ${at}`,
    sql`baton_tasks.run_id, baton_tasks.step_name, baton_tasks.status, baton_tasks.error, baton_tasks.started_at`,
  );
}

/** Rule 4: step successes counted, dependents' counters lowered, their waiting tasks made pending. Three statements at most. */
async function unblockDependents(ctx: Ctx, deltas: RunDelta[], now: number): Promise<number> {
  const successes = deltas.flatMap((d) => d.successes.map(([step, n]) => [d.runId, step, n]));
  if (successes.length === 0) return 0;
  const added = new Map(successes.map(([run, step, n]) => [`${run}\n${step}`, n as number]));
  // SQLite's RETURNING cannot name the FROM table: this batch's count comes from `added`.
  const { rows: steps } = await sql<{ run_id: string; step_name: string; succeeded: number; task_count: number; dependents: unknown }>`
    with v(run_id, step_name, n) as (${rowsTable(ctx, successes, ['id', 'text', 'int'])})
    update baton_run_steps set succeeded = succeeded + v.n
    from v where baton_run_steps.run_id = v.run_id and baton_run_steps.step_name = v.step_name
    returning baton_run_steps.run_id, baton_run_steps.step_name, baton_run_steps.succeeded, baton_run_steps.task_count, baton_run_steps.dependents`.execute(
    ctx.db,
  );
  const lowered = new Map<string, [string, string, number]>();
  for (const step of steps) {
    const succeeded = Number(step.succeeded);
    const total = Number(step.task_count);
    // Complete with this batch's successes, not before: its dependents are lowered once.
    if (succeeded < total || succeeded - added.get(`${step.run_id}\n${step.step_name}`)! >= total) continue;
    for (const dependent of ctx.rows.json<string[]>(step.dependents)) {
      const key = `${step.run_id}\n${dependent}`;
      const entry = lowered.get(key);
      if (entry) entry[2]++;
      else lowered.set(key, [step.run_id, dependent, 1]);
    }
  }
  if (lowered.size === 0) return 0;
  const { rows: counters } = await sql<{ run_id: string; step_name: string; deps_remaining: number }>`
    with v(run_id, step_name, n) as (${rowsTable(ctx, [...lowered.values()].sort(byRunAndStep), ['id', 'text', 'int'])})
    update baton_run_steps set deps_remaining = deps_remaining - v.n
    from v where baton_run_steps.run_id = v.run_id and baton_run_steps.step_name = v.step_name
    returning baton_run_steps.run_id, baton_run_steps.step_name, baton_run_steps.deps_remaining`.execute(ctx.db);
  const ready = counters.filter((c) => Number(c.deps_remaining) <= 0).map((c) => [c.run_id, c.step_name]);
  if (ready.length === 0) return 0;
  const at = ctx.dialect.cast(sql`${now}`, 'ms');
  const { rows } = await sql`
    with v(run_id, step_name) as (${rowsTable(ctx, ready, ['id', 'text'])})
    update baton_tasks set status = 'pending', run_at = ${at}, updated_at = ${at}
    from v where baton_tasks.run_id = v.run_id and baton_tasks.step_name = v.step_name and baton_tasks.status = 'waiting'
    returning baton_tasks.id`.execute(ctx.db);
  return rows.length;
}

/** Rule 3: waiting tasks downstream of a failed step cancelled. Two statements at most; answers cancellations per run. */
async function cancelDownstream(ctx: Ctx, deltas: RunDelta[], now: number): Promise<Map<string, number>> {
  const cancelledPerRun = new Map<string, number>();
  const failed = deltas.flatMap((d) => d.failedSteps.map((step) => [d.runId, step]));
  if (failed.length === 0) return cancelledPerRun;
  const { rows: steps } = await sql<{ run_id: string; step_name: string; downstream: unknown }>`
    with v(run_id, step_name) as (${rowsTable(ctx, failed, ['id', 'text'])})
    select s.run_id, s.step_name, s.downstream from baton_run_steps s join v on s.run_id = v.run_id and s.step_name = v.step_name`.execute(
    ctx.db,
  );
  // Each downstream step is cancelled once, naming the first failed step (by name) upstream of it.
  const targets = new Map<string, [string, string, string]>();
  for (const step of steps.sort((a, b) => byRunAndStep([a.run_id, a.step_name], [b.run_id, b.step_name]))) {
    for (const name of ctx.rows.json<string[]>(step.downstream)) {
      const key = `${step.run_id}\n${name}`;
      if (!targets.has(key)) targets.set(key, [step.run_id, name, upstreamFailedMessage(step.step_name)]);
    }
  }
  if (targets.size === 0) return cancelledPerRun;
  const at = ctx.dialect.cast(sql`${now}`, 'ms');
  const { rows } = await sql<{ run_id: string }>`
    with v(run_id, step_name, error) as (${rowsTable(ctx, [...targets.values()], ['id', 'text', 'text'])})
    update baton_tasks set status = 'cancelled', error = v.error, finished_at = ${at}, updated_at = ${at}
    from v where baton_tasks.run_id = v.run_id and baton_tasks.step_name = v.step_name and baton_tasks.status = 'waiting'
    returning baton_tasks.run_id`.execute(ctx.db);
  for (const r of rows) cancelledPerRun.set(r.run_id, (cancelledPerRun.get(r.run_id) ?? 0) + 1);
  return cancelledPerRun;
}

/**
 * Rules 2, 5, 6: run counters moved, first failure kept, runs that are done
 * ended and runs still pending started. One read, then each run written once:
 * the runs whose status moves in one statement, the rest (counters only) in
 * another. A status named in SET makes SQLite rewrite both status indexes of
 * the row even when the value stays, so the counters-only statement leaves it
 * out (with claims that start runs nearly every run of a multi-task batch is
 * already `running`). Single-task runs all end: before, their counters and
 * their end were two writes of the same 500 rows per batch (finishing 20,000
 * single-task runs on SQLite: roll-up 423 ms of 2,555 in a CPU profile).
 */
async function rollUpRuns(
  ctx: Ctx,
  deltas: RunDelta[],
  cancelled: Map<string, number>,
  now: number,
): Promise<Pick<FinishResult, 'finishedRuns' | 'startedRuns'>> {
  if (deltas.length === 0) return { finishedRuns: [], startedRuns: [] };
  const ids = deltas.map((d) => [d.runId]);
  const { rows: runs } = await sql<{
    id: string;
    status: string;
    tasks_total: number;
    tasks_finished: number;
    failure_status: string | null;
    started_at: number | string | null;
    created_at: number | string;
  }>`
    with v(id) as (${rowsTable(ctx, ids, ['id'])})
    select r.id, r.status, r.tasks_total, r.tasks_finished, r.failure_status, r.started_at, r.created_at
    from baton_runs r join v on r.id = v.id
    order by r.id`.execute(ctx.db);
  const byId = new Map(deltas.map((d) => [d.runId, d]));
  // [run, finished, failed, failure status, error, started at] and, for runs whose status moves, [status, duration]
  const counted: unknown[][] = [];
  const moved: unknown[][] = [];
  const finished: FinishedRun[] = [];
  const started: string[] = [];
  for (const run of runs) {
    const d = byId.get(run.id)!;
    const c = cancelled.get(d.runId) ?? 0;
    const counters = [
      run.id,
      d.finished + c,
      d.failed + c,
      d.firstFailure?.status ?? null,
      d.firstFailure?.error ?? null,
      d.startedAt ?? now,
    ];
    const startedAt = run.started_at === null ? (d.startedAt ?? now) : Number(run.started_at);
    const status = runEndStatus({
      status: run.status,
      tasksTotal: Number(run.tasks_total),
      tasksFinished: Number(run.tasks_finished) + d.finished + c,
      failureStatus: run.failure_status ?? d.firstFailure?.status ?? null,
    });
    // Rule 2: an ending starts a run still pending (its claim deferred the start, or nothing marked it).
    if (run.status === 'pending') started.push(run.id);
    if (status) {
      moved.push([...counters, status, runDurationMs(startedAt, Number(run.created_at), now)]);
      finished.push({ runId: run.id, status });
    } else if (run.status === 'pending') {
      moved.push([...counters, 'running', null]); // rule 2: an ending, even a retry, starts its run
    } else {
      counted.push(counters);
    }
  }
  const set = sql`tasks_finished = tasks_finished + v.finished,
      tasks_failed = tasks_failed + v.failed,
      failure_status = coalesce(baton_runs.failure_status, v.failure_status),
      error = coalesce(baton_runs.error, v.error),
      started_at = coalesce(baton_runs.started_at, v.started_at),
      updated_at = ${bumped(now)}`;
  const types: ColumnType[] = ['id', 'int', 'int', 'text', 'text', 'ms'];
  if (counted.length > 0)
    await sql`
      with v(id, finished, failed, failure_status, error, started_at) as (${rowsTable(ctx, counted, types)})
      update baton_runs set ${set}
      from v where baton_runs.id = v.id`.execute(ctx.db);
  if (moved.length > 0) {
    const at = ctx.dialect.cast(sql`${now}`, 'ms');
    await sql`
      with v(id, finished, failed, failure_status, error, started_at, status, duration_ms) as (${rowsTable(ctx, moved, [...types, 'text', 'ms'])})
      update baton_runs set ${set}, status = v.status,
        finished_at = case when v.status = 'running' then null else ${at} end, duration_ms = v.duration_ms
      from v where baton_runs.id = v.id`.execute(ctx.db);
  }
  return { finishedRuns: finished, startedRuns: started };
}

function byRunAndStep(a: unknown[], b: unknown[]): number {
  const [ra, sa] = a as [string, string];
  const [rb, sb] = b as [string, string];
  return ra < rb ? -1 : ra > rb ? 1 : sa < sb ? -1 : sa > sb ? 1 : 0;
}
