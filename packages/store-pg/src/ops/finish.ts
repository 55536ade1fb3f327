import type { FinishResult, FinishedRun, MarkOutcome, RunningMark, TaskResult } from '@baton/core';
import type { Db } from '@baton/store-sql';
import type pg from 'pg';
import { endedTaskError, finishOutcomes, firstListings } from '@baton/core/store-kit';
import { TASKS_READY_CHANNEL, runOnce } from './run-once.js';
import { idParam } from '../pg-ids.js';

/**
 * `finishTasks` in one statement, one round trip, no BEGIN/COMMIT: the fenced
 * write and the whole roll-up as data-modifying CTEs. It spells core's roll-up
 * rules (`@baton/core` rollup.ts, rules 1–6) in SQL; the portable path in
 * store-sql calls those functions, and the conformance suite holds both to the
 * same answers.
 *
 * Rows each CTE writes are disjoint (PostgreSQL runs every CTE on one
 * snapshot and a row must not be written twice): `ended` writes leased tasks,
 * `ready` and `cancelled` waiting tasks of different steps (a step whose
 * dependencies all succeeded has no failed step upstream), `steps` the steps
 * that had successes, `deps` their dependents (not yet runnable, so without
 * successes), `runs` each run once.
 *
 * Lock order: the ended tasks by id (`locked`, before the fence), then runs
 * by id (`run_locks`), then run steps, then the dependents' waiting tasks.
 * That is the order the executor takes them in (PostgreSQL does not promise
 * one among data-modifying CTEs: the outer query reads `runs` before `ready`,
 * which pulls `deps` and `steps`; a test holds each row and checks which the
 * blocked finish already has). It agrees with cancelRun (a run, then its
 * pending and waiting tasks); a finish that locked waiting tasks before the
 * run could deadlock with it. Every finish runs the same statement, so
 * finishes share one order. Indexes: tasks by primary key, waiting tasks by
 * `baton_tasks_waiting_idx` (run_id, step_name, waiting only), steps and runs by primary key.
 * The join to `locked` also keeps the fenced update on the primary key: with
 * `locked` dropped in a scratch build the finish ran three times slower
 * (bench/HISTORY.md); a change to it needs the plan checked.
 */
const FINISH_SQL = `
with v as (
  select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
    with ordinality as v(id, lease_id, status, output, error, retry_at, started_at, ord)
), locked as materialized (
  select id from baton_tasks where id = any($1::uuid[]) order by id for update
), ended as (
  update baton_tasks t set
    status = case when (select r.status from baton_runs r where r.id = t.run_id) = 'cancelled' then 'cancelled' else v.status end,
    output = v.output::jsonb,
    error = v.error,
    run_at = coalesce(v.retry_at, t.run_at),
    -- The run's status is looked up once per task, a second time only for a retry.
    finished_at = case when v.status <> 'pending' then $8::bigint when (select r.status from baton_runs r where r.id = t.run_id) = 'cancelled' then $8::bigint end,
    started_at = coalesce(v.started_at, t.started_at, t.dispatched_at),
    lease_id = null, lease_owner = null, lease_expires_at = null,
    updated_at = $8::bigint
  from v join locked on locked.id = v.id
  -- id = any(…) keeps the planner on the primary key: the partial index of leased
  -- tasks looks small in the statistics but holds every dead entry since the last vacuum.
  where t.id = any($1::uuid[]) and t.id = v.id and t.lease_id = v.lease_id and t.status in ('dispatched', 'running')
  returning t.id, t.run_id, t.step_name, t.status, t.error, t.started_at, v.ord
), succ as (
  -- rule 4: successes per step
  select run_id, step_name, count(*)::int as n from ended where status = 'success' group by run_id, step_name
), steps as (
  update baton_run_steps s set succeeded = s.succeeded + succ.n
  from succ where s.run_id = succ.run_id and s.step_name = succ.step_name
  returning s.run_id, s.dependents, (s.succeeded >= s.task_count and s.succeeded - succ.n < s.task_count) as completed
), lowered as (
  select st.run_id, d.name as step_name, count(*)::int as n
  from steps st cross join lateral jsonb_array_elements_text(st.dependents) as d(name)
  where st.completed group by st.run_id, d.name
), deps as (
  update baton_run_steps s set deps_remaining = s.deps_remaining - lowered.n
  from lowered where s.run_id = lowered.run_id and s.step_name = lowered.step_name
  returning s.run_id, s.step_name, s.deps_remaining
), ready as (
  update baton_tasks t set status = 'pending', run_at = $8::bigint, updated_at = $8::bigint
  from deps where deps.deps_remaining <= 0 and t.run_id = deps.run_id and t.step_name = deps.step_name and t.status = 'waiting'
  returning t.id
), targets as (
  -- rule 3: each downstream step once, naming the first failed step (by name) upstream of it
  select distinct on (f.run_id, d.name) f.run_id, d.name as step_name, 'upstream step "' || f.step_name || '" failed' as error
  from (select distinct run_id, step_name from ended where status not in ('success', 'pending')) f
  join baton_run_steps s on s.run_id = f.run_id and s.step_name = f.step_name
  cross join lateral jsonb_array_elements_text(s.downstream) as d(name)
  order by f.run_id, d.name, f.step_name
), cancelled as (
  update baton_tasks t set status = 'cancelled', error = targets.error, finished_at = $8::bigint, updated_at = $8::bigint
  from targets where t.run_id = targets.run_id and t.step_name = targets.step_name and t.status = 'waiting'
  returning t.run_id
), deltas as (
  -- rules 1, 2, 3, 5: per run, what counts, the earliest start, the first failure in the order given
  select e.run_id,
    count(*) filter (where e.status <> 'pending') + coalesce(max(c.n), 0) as finished,
    count(*) filter (where e.status not in ('success', 'pending')) + coalesce(max(c.n), 0) as failed,
    min(e.started_at) as started_at,
    (array_agg(case e.status when 'timeout' then 'timeout' when 'cancelled' then 'cancelled' else 'failed' end order by e.ord)
      filter (where e.status not in ('success', 'pending')))[1] as failure_status,
    (array_agg('step "' || e.step_name || '" ' || e.status || ': ' || coalesce(e.error, e.status) order by e.ord)
      filter (where e.status not in ('success', 'pending')))[1] as error
  from ended e
  left join (select run_id, count(*) as n from cancelled group by run_id) c on c.run_id = e.run_id
  group by e.run_id
), run_locks as materialized (
  -- Carries the deltas along: joining this CTE to \`deltas\` again made the planner (which
  -- guesses a CTE's size) loop over one for each row of the other, 250,000 comparisons and
  -- 33 ms of a 56 ms finish of 500 single-task runs.
  select r.id, r.status as was, d.* from baton_runs r join deltas d on d.run_id = r.id order by r.id for update of r
), runs as (
  -- rule 6: a run still going whose finished count reaches its total ends, from its start
  update baton_runs r set
    tasks_finished = r.tasks_finished + d.finished,
    tasks_failed = r.tasks_failed + d.failed,
    failure_status = coalesce(r.failure_status, d.failure_status),
    error = coalesce(r.error, d.error),
    started_at = coalesce(r.started_at, d.started_at, $8::bigint),
    status = case
      when r.status not in ('pending', 'running') then r.status
      when r.tasks_finished + d.finished >= r.tasks_total then coalesce(r.failure_status, d.failure_status, 'success')
      else 'running' end,
    finished_at = case when r.status in ('pending', 'running') and r.tasks_finished + d.finished >= r.tasks_total then $8::bigint else r.finished_at end,
    duration_ms = case when r.status in ('pending', 'running') and r.tasks_finished + d.finished >= r.tasks_total
      then greatest(0, $8::bigint - coalesce(r.started_at, d.started_at, r.created_at)) else r.duration_ms end,
    updated_at = case when r.updated_at >= $8::bigint then r.updated_at + 1 else $8::bigint end
  from run_locks d
  where r.id = d.id
  returning r.id, r.status, d.was
), notified as (
  select pg_notify('${TASKS_READY_CHANNEL}', '') from (select 1) x
  where exists (select 1 from ready) or exists (select 1 from ended where status = 'pending')
)
select 'task' as kind, id, status from ended
-- Read only when some ending was refused (a lost lease, a task listed twice): 2 ms of a 21 ms
-- finish of 500 (EXPLAIN ANALYZE) went to this lookup when nothing was.
union all select 'refused', t.id, t.status from baton_tasks t
  where (select count(*) from ended) < cardinality($1::uuid[]) and t.id = any($1::uuid[]) and not exists (select 1 from ended e where e.id = t.id)
union all select 'run', id, status from runs where was in ('pending', 'running') and status not in ('pending', 'running')
-- Rule 2: runs still pending (a claim that deferred their start) started by their endings.
union all select 'started', id, null from runs where was = 'pending'
union all select 'ready', null, count(*)::text from ready
union all select 'notified', null, null from notified`;

export async function finishTasks(pool: pg.Pool | undefined, db: Db, results: TaskResult[], now: number): Promise<FinishResult> {
  const ids: string[] = [];
  const leases: string[] = [];
  const statuses: string[] = [];
  const outputs: (string | null)[] = [];
  const errors: (string | null)[] = [];
  const retryAts: (number | null)[] = [];
  const startedAts: (number | null)[] = [];
  // Only a task's first listing is sent (firstListings); the repeats are answered by finishOutcomes.
  // (Deduplicating in SQL with DISTINCT ON cost the statement its plan: fan-out 8,000 → 4,500 tasks/s.)
  for (const r of firstListings(results)) {
    const retryAt = r.status !== 'cancelled' && 'retryAt' in r && r.retryAt ? r.retryAt.getTime() : null;
    ids.push(idParam(r.taskId));
    leases.push(idParam(r.leaseId));
    statuses.push(retryAt !== null ? 'pending' : r.status);
    outputs.push(r.status === 'success' ? JSON.stringify(r.output) : null);
    errors.push(endedTaskError(r));
    retryAts.push(retryAt);
    startedAts.push(r.startedAt?.getTime() ?? null);
  }
  const rows = await runOnce<{ kind: string; id: string | null; status: string | null }>(db, pool, FINISH_SQL, [
    ids,
    leases,
    statuses,
    outputs,
    errors,
    retryAts,
    startedAts,
    now,
  ]);

  const written = new Map<string, string>();
  const current = new Map<string, string>();
  const finishedRuns: FinishedRun[] = [];
  const startedRuns: string[] = [];
  let readyTasks = 0;
  for (const row of rows) {
    if (row.kind === 'task') {
      written.set(row.id!, row.status!);
      if (row.status === 'pending') readyTasks++;
    } else if (row.kind === 'refused') current.set(row.id!, row.status!);
    else if (row.kind === 'run') finishedRuns.push({ runId: row.id!, status: row.status as FinishedRun['status'] });
    else if (row.kind === 'started') startedRuns.push(row.id!);
    else if (row.kind === 'ready') readyTasks += Number(row.status);
  }
  const outcomes = finishOutcomes(results, (id) => written.get(id), current);
  finishedRuns.sort((a, b) => (a.runId < b.runId ? -1 : 1));
  return { outcomes, finishedRuns, startedRuns, readyTasks };
}

/**
 * `markRunning` in one statement: the fenced mark (tasks locked in id order
 * first) and the runs it starts, pending → running at their earliest mark.
 * A task already `running` under its lease with no execution to name (a claim
 * that deferred its run's start) is only read, not rewritten: the mark is there
 * to start its run. Reading it unlocked is safe: an ending that commits
 * meanwhile has moved the run out of `pending`, and the run's update re-reads
 * that under its row lock.
 */
const MARK_RUNNING = `
with v as (
  select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[]) as v(id, lease_id, execution_name, started_at)
), held as (
  select t.id, t.run_id, t.started_at, t.status = 'running' and v.execution_name is null as kept
  from baton_tasks t join v on v.id = t.id
  where t.id = any($1::uuid[]) and t.lease_id = v.lease_id and t.status in ('dispatched', 'running')
), locked as materialized (
  select id from baton_tasks where id = any(array(select id from held where not kept)) order by id for update
), marked as (
  update baton_tasks t set status = 'running', started_at = v.started_at, execution_name = v.execution_name, updated_at = $5::bigint
  from v join locked on locked.id = v.id
  where t.id = any(array(select id from locked)) and t.id = v.id and t.lease_id = v.lease_id and t.status in ('dispatched', 'running')
  returning t.id, t.run_id, t.started_at
), both_ as (
  select id, run_id, started_at from marked
  union all select id, run_id, started_at from held where kept
), starts as (
  select run_id, min(started_at) as started_at from both_ group by run_id
), runs as (
  update baton_runs r set status = 'running', started_at = starts.started_at, updated_at = $5::bigint
  from starts where r.id = starts.run_id and r.status = 'pending'
  returning r.id
)
select m.id, m.run_id in (select id from runs) and row_number() over (partition by m.run_id) = 1 as run_started from both_ m`;

export async function markRunning(pool: pg.Pool | undefined, db: Db, items: RunningMark[], now: number): Promise<MarkOutcome[]> {
  const parameters = [
    items.map((i) => idParam(i.taskId)),
    items.map((i) => idParam(i.leaseId)),
    items.map((i) => i.executionName ?? null),
    items.map((i) => i.startedAt?.getTime() ?? now),
    now,
  ];
  const rows = await runOnce<{ id: string; run_started: boolean }>(db, pool, MARK_RUNNING, parameters);
  // A task listed twice comes back once per listing when it is only read (kept): either row may say it.
  const written = new Map<string, boolean>();
  for (const r of rows) written.set(r.id, written.get(r.id) === true || r.run_started);
  // A task listed twice was written once: its run start is told on the first listing.
  return items.map((i) => {
    const runStarted = written.get(i.taskId);
    if (runStarted) written.set(i.taskId, false);
    return { held: runStarted !== undefined, runStarted: runStarted === true };
  });
}
