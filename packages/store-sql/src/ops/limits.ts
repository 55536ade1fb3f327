import { LEASED_TASK_STATUSES, type ClaimOptions, type LimitState } from '@baton/core';
import type { PlannedTask } from '@baton/core/store-kit';
import { sql } from 'kysely';
import { idParam, idParams, type Ctx } from '../context.js';
import type { ClaimRow, Db } from '../dialect.js';
import { nowMs } from '../rows.js';
import type { TaskTable } from '../schema.js';

/**
 * Cluster-wide concurrency and rate limits per key, enforced in the claim.
 *
 * A task planned with a limit carries its evaluated keys (`concurrency_key`,
 * `rate_key`); the plain claim reads only tasks whose keys are both NULL, so
 * it is untouched by limits. Limited tasks are claimed here:
 *
 * 1. Candidates: due pending limited tasks in claim order whose keys had room
 *    when read (partial index `baton_tasks_limited_idx`).
 * 2. Lock the candidates' key rows in `baton_limit_keys`, in (kind, key) order,
 *    FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite serialises writers): a key is
 *    assigned by one claimer at a time, and a claimer skips the keys another
 *    is assigning instead of waiting. Finishing, releasing and recovering never
 *    lock key rows, so no cycle can form.
 * 3. Recount under the lock (a fresh snapshot in READ COMMITTED): slots held
 *    = tasks of the key holding an unexpired lease; the rate window = claims
 *    of the key younger than its period.
 * 4. Lease the chosen tasks (still `pending`), record their rate claims.
 *
 * Slots are derived from task rows, not counted: a task that ends, is
 * released, is recovered or whose lease expired stops holding its slot with
 * no bookkeeping in finish, release or recovery.
 *
 * Rate limits use a sliding window log: one row per claim in
 * `baton_rate_claims`, so at most `limit` claims of a key fall in any window
 * of `periodMs`, across restarts. A claim counts whether the attempt then
 * succeeds, fails or is released (the request may have been sent).
 */

/** Candidates read per limited claim, per task asked for: room for tasks of full keys. */
const CANDIDATES_PER_TASK = 4;
/** How often a store that has never seen a limit checks whether one appeared. */
const PROBE_MS = 1000;

/**
 * Whether limits are in use on this store, so that a store without any pays
 * nothing per claim: one probe a second until a limit key exists, then the
 * limited claim runs (its first statement, on an empty index, is cheap).
 */
export class LimitGate {
  #active = false;
  #probedAt = -Infinity;

  markActive(): void {
    this.#active = true;
  }

  async active(db: Db): Promise<boolean> {
    if (this.#active) return true;
    const now = Date.now();
    if (now - this.#probedAt < PROBE_MS) return false;
    this.#probedAt = now;
    const row = await db.selectFrom('baton_limit_keys').select('key').limit(1).executeTakeFirst();
    if (row) this.#active = true;
    return this.#active;
  }
}

interface Key {
  kind: 'concurrency' | 'rate';
  key: string;
}

const keyId = (k: Key) => `${k.kind}\n${k.key}`;

/** Called by createRun in its transaction: one row per key, in key order (two runs never deadlock). */
export async function registerLimitKeys(ctx: Ctx, tasks: PlannedTask[]): Promise<void> {
  const keys = new Map<string, Key>();
  for (const t of tasks) {
    if (t.concurrencyLimit)
      keys.set(keyId({ kind: 'concurrency', key: t.concurrencyLimit.key }), { kind: 'concurrency', key: t.concurrencyLimit.key });
    if (t.rateLimit) keys.set(keyId({ kind: 'rate', key: t.rateLimit.key }), { kind: 'rate', key: t.rateLimit.key });
  }
  if (keys.size === 0) return;
  const sorted = [...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
  for (let i = 0; i < sorted.length; i += 500) {
    await ctx.db
      .insertInto('baton_limit_keys')
      .values(sorted.slice(i, i + 500))
      .onConflict((oc) => oc.columns(['kind', 'key']).doNothing())
      .execute();
  }
  ctx.limits.markActive();
}

type Candidate = Pick<TaskTable, 'id' | 'concurrency_key' | 'concurrency_limit' | 'rate_key' | 'rate_limit' | 'rate_period_ms'>;

/**
 * The limited claim (see the file comment). Returns at most `o.limit` rows;
 * none, in one statement, when no limited task is due with room.
 */
export async function claimLimitedTasks(ctx: Ctx, o: ClaimOptions & { leaseId: string; now: number }): Promise<ClaimRow[]> {
  if (!(await ctx.limits.active(ctx.db))) return [];
  const candidates = await readCandidates(ctx.db, ctx, o);
  if (candidates.length === 0) return [];
  return ctx.tx(async (ctx) => {
    const wanted = new Map<string, Key>();
    for (const c of candidates) {
      if (c.concurrency_key !== null)
        wanted.set(keyId({ kind: 'concurrency', key: c.concurrency_key }), { kind: 'concurrency', key: c.concurrency_key });
      if (c.rate_key !== null) wanted.set(keyId({ kind: 'rate', key: c.rate_key }), { kind: 'rate', key: c.rate_key });
    }
    const sortedKeys = [...wanted.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
    const locked = new Set((ctx.dialect.lockLimitKeys ? await ctx.dialect.lockLimitKeys(ctx.db, sortedKeys) : sortedKeys).map(keyId));
    if (locked.size === 0) return [];
    const now = nowMs();

    const concurrencyKeys = sortedKeys.filter((k) => k.kind === 'concurrency' && locked.has(keyId(k))).map((k) => k.key);
    const rateKeys = sortedKeys.filter((k) => k.kind === 'rate' && locked.has(keyId(k))).map((k) => k.key);
    const held = new Map<string, number>();
    if (concurrencyKeys.length > 0) {
      const rows = await ctx.db
        .selectFrom('baton_tasks')
        .select(['concurrency_key', (eb) => eb.fn.countAll().as('n')])
        .where('concurrency_key', 'in', concurrencyKeys)
        .where('status', 'in', LEASED_TASK_STATUSES)
        .where('lease_expires_at', '>=', now)
        .groupBy('concurrency_key')
        .execute();
      for (const r of rows) held.set(r.concurrency_key!, Number(r.n));
    }
    const windows = new Map<string, number[]>();
    if (rateKeys.length > 0) {
      const longest = Math.max(...candidates.map((c) => Number(c.rate_period_ms ?? 0)));
      const rows = await ctx.db
        .selectFrom('baton_rate_claims')
        .select(['key', 'claimed_at'])
        .where('key', 'in', rateKeys)
        .where('claimed_at', '>', now - longest)
        .execute();
      for (const r of rows) {
        let list = windows.get(r.key);
        if (!list) windows.set(r.key, (list = []));
        list.push(Number(r.claimed_at));
      }
    }

    // Walk the candidates in claim order, giving each key no more than its room.
    const chosen: string[] = [];
    const takenRate = new Map<string, number>();
    for (const c of candidates) {
      if (chosen.length === o.limit) break;
      const ck = c.concurrency_key;
      const rk = c.rate_key;
      if (ck !== null && (!locked.has(keyId({ kind: 'concurrency', key: ck })) || (held.get(ck) ?? 0) >= Number(c.concurrency_limit)))
        continue;
      if (rk !== null) {
        if (!locked.has(keyId({ kind: 'rate', key: rk }))) continue;
        const since = now - Number(c.rate_period_ms);
        const used = (windows.get(rk) ?? []).filter((at) => at > since).length + (takenRate.get(rk) ?? 0);
        if (used >= Number(c.rate_limit)) continue;
      }
      chosen.push(c.id);
      if (ck !== null) held.set(ck, (held.get(ck) ?? 0) + 1);
      if (rk !== null) takenRate.set(rk, (takenRate.get(rk) ?? 0) + 1);
    }
    if (chosen.length === 0) return [];

    const claimed = await ctx.dialect.leaseTasks(ctx.db, chosen, {
      workerId: o.workerId,
      leaseId: o.leaseId,
      leaseMs: o.leaseMs,
      now,
      running: o.running,
      deferRunStart: o.deferRunStart,
    });
    const tasks = claimed.map((c) => c.task);
    const claims = tasks.filter((t) => t.rate_key !== null).map((t) => ({ key: t.rate_key!, claimed_at: now }));
    if (claims.length > 0) {
      await ctx.db.insertInto('baton_rate_claims').values(claims).execute();
      // Keep each window to its period: rows older than it can never count again.
      const periods = new Map(tasks.filter((t) => t.rate_key !== null).map((t) => [t.rate_key!, Number(t.rate_period_ms)]));
      await ctx.db
        .deleteFrom('baton_rate_claims')
        .where((eb) => eb.or([...periods].map(([key, period]) => eb.and([eb('key', '=', key), eb('claimed_at', '<=', now - period)]))))
        .execute();
    }
    return claimed;
  });
}

async function readCandidates(db: Db, ctx: Ctx, o: ClaimOptions & { now: number }): Promise<Candidate[]> {
  const now = ctx.dialect.cast(sql`${o.now}`, 'ms');
  let q = db
    .selectFrom('baton_tasks as t')
    .innerJoin('baton_workflows as w', 'w.id', 't.workflow_id')
    .select(['t.id', 't.concurrency_key', 't.concurrency_limit', 't.rate_key', 't.rate_limit', 't.rate_period_ms'])
    // Exactly the partial index's predicate, so the planner uses it.
    .where(sql<boolean>`t.status = 'pending' and (t.concurrency_key is not null or t.rate_key is not null)`)
    .where('t.run_at', '<=', o.now)
    .where('w.status', '=', 'active')
    // Skip keys that are full as read now; the claim recounts under the key lock. First the full
    // keys as one set, computed once (a hashed subplan on PostgreSQL, a materialised list on SQLite),
    // so a backlog behind a full key costs a lookup per task instead of a count per task (measured
    // with 10,000 tasks behind 1,000 full keys on PostgreSQL: 179 ms per claim before, see bench/);
    // then the exact count per remaining task, against its own limit.
    .where(
      sql<boolean>`(t.concurrency_key is null or t.concurrency_key not in (select h.concurrency_key from baton_tasks h
        where h.status in ('dispatched','running') and h.concurrency_key is not null and h.lease_expires_at >= ${now}
        group by h.concurrency_key having count(*) >= max(h.concurrency_limit)))`,
    )
    .where(
      sql<boolean>`(t.concurrency_key is null or (select count(*) from baton_tasks h where h.concurrency_key = t.concurrency_key
        and h.status in ('dispatched','running') and h.lease_expires_at >= ${now}) < t.concurrency_limit)`,
    )
    .where(
      sql<boolean>`(t.rate_key is null or (select count(*) from baton_rate_claims c where c.key = t.rate_key
        and c.claimed_at > ${now} - t.rate_period_ms) < t.rate_limit)`,
    );
  if (o.workflowIds) q = q.where('t.workflow_id', 'in', o.workflowIds.length ? idParams(ctx, o.workflowIds) : [idParam(ctx, '')]);
  if (o.excludeWorkflowIds?.length) q = q.where('t.workflow_id', 'not in', idParams(ctx, o.excludeWorkflowIds));
  return q
    .orderBy('t.priority', 'desc')
    .orderBy('t.run_at')
    .orderBy('t.id')
    .limit(o.limit * CANDIDATES_PER_TASK)
    .execute();
}

/**
 * Why tasks wait: every key with tasks pending or leased, its limit, what is
 * used and how many due tasks wait under it. Two grouped reads.
 */
export async function listLimits(ctx: Ctx): Promise<LimitState[]> {
  const now = nowMs();
  const leased = sql<number>`sum(case when status in ('dispatched','running') and lease_expires_at >= ${ctx.dialect.cast(sql`${now}`, 'ms')} then 1 else 0 end)`;
  const waiting = sql<number>`sum(case when status = 'pending' and run_at <= ${ctx.dialect.cast(sql`${now}`, 'ms')} then 1 else 0 end)`;
  const concurrency = await ctx.db
    .selectFrom('baton_tasks')
    .select(['concurrency_key as key', (eb) => eb.fn.max('concurrency_limit').as('lim'), leased.as('used'), waiting.as('waiting')])
    .where('concurrency_key', 'is not', null)
    .where('status', 'in', ['pending', 'dispatched', 'running'])
    .groupBy('concurrency_key')
    .orderBy('concurrency_key')
    .execute();
  const rate = await ctx.db
    .selectFrom('baton_tasks')
    .select([
      'rate_key as key',
      (eb) => eb.fn.max('rate_limit').as('lim'),
      (eb) => eb.fn.max('rate_period_ms').as('period'),
      waiting.as('waiting'),
    ])
    .where('rate_key', 'is not', null)
    .where('status', 'in', ['pending', 'dispatched', 'running'])
    .groupBy('rate_key')
    .orderBy('rate_key')
    .execute();
  const used = new Map<string, number>();
  if (rate.length > 0) {
    const longest = Math.max(...rate.map((r) => Number(r.period)));
    const claims = await ctx.db
      .selectFrom('baton_rate_claims')
      .select(['key', 'claimed_at'])
      .where(
        'key',
        'in',
        rate.map((r) => r.key!),
      )
      .where('claimed_at', '>', now - longest)
      .execute();
    const periods = new Map(rate.map((r) => [r.key!, Number(r.period)]));
    for (const c of claims) if (Number(c.claimed_at) > now - periods.get(c.key)!) used.set(c.key, (used.get(c.key) ?? 0) + 1);
  }
  return [
    ...concurrency.map((r) => ({
      kind: 'concurrency' as const,
      key: r.key!,
      limit: Number(r.lim),
      periodMs: null,
      used: Number(r.used ?? 0),
      waiting: Number(r.waiting ?? 0),
    })),
    ...rate.map((r) => ({
      kind: 'rate' as const,
      key: r.key!,
      limit: Number(r.lim),
      periodMs: Number(r.period),
      used: used.get(r.key!) ?? 0,
      waiting: Number(r.waiting ?? 0),
    })),
  ];
}
