import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Store, Task } from '@baton/core';
import type { FaultKind, ScenarioOptions, ScenarioResult, StoreKind, WorkerConfig } from './config.js';

const exec = promisify(execFile);
const workerScript = fileURLToPath(new URL('./worker.ts', import.meta.url));
const chaosDir = fileURLToPath(new URL('../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Event {
  e: 'ready' | 'start' | 'end' | 'crash';
  w: string;
  t: number;
  task?: string;
  attempt?: number;
  error?: string;
}

interface Worker {
  id: string;
  child: ChildProcess;
  killedByUs: boolean;
  exited: boolean;
  isReady: boolean;
  frozen: boolean;
  ready: Promise<void>;
  /** Resolves once the child's stdout has closed: every line it wrote has been read. */
  drained: Promise<void>;
}

/**
 * Restarting PostgreSQL stops every session on the machine, so it needs the rights
 * (root, as CI runs) and an explicit yes: BATON_CHAOS_RESTART_PG=1, or CI=true
 * unless BATON_CHAOS_RESTART_PG=0. Returns why not, or null when allowed.
 */
export function restartRefusal(env = process.env): string | null {
  const flag = env.BATON_CHAOS_RESTART_PG;
  if (flag === '0') return 'BATON_CHAOS_RESTART_PG=0';
  if (flag !== '1' && env.CI !== 'true') return 'not asked to (set BATON_CHAOS_RESTART_PG=1; CI=true implies it)';
  if (process.getuid?.() !== 0) return 'not root: pg_ctlcluster needs root';
  return null;
}

/** `pg_ctlcluster … restart`, then waits until pg_isready answers (at most 60 s). */
async function restartPostgres(): Promise<void> {
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) throw new Error('no cluster in /etc/postgresql');
  await exec('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { timeout: 60_000 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await exec('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error('PostgreSQL did not come back within 60 s of the restart');
      await sleep(200);
    }
  }
}

async function pgQuery(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates the store's home; returns the location workers use, the conductor's handle, and a clean-up. */
async function prepareStore(
  o: ScenarioOptions,
): Promise<{ location: string; schema?: string; store: Store; cleanup: () => Promise<void> }> {
  if (o.store === 'pg') {
    const { openPgStore } = await import('@baton/store-pg');
    const schema = `baton_chaos_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const store = await openPgStore({
      connectionString: `${o.pgUrl}${o.pgUrl.includes('?') ? '&' : '?'}application_name=chaos_conductor`,
      schema,
      poolSize: 2,
      warn: () => {},
    });
    return {
      location: o.pgUrl,
      schema,
      store,
      cleanup: async () => {
        await store.close();
        await pgQuery(o.pgUrl, `drop schema if exists ${schema} cascade`).catch(() => {});
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), `baton-chaos-${o.store}-`));
  const cleanup = async (store: Store) => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  if (o.store === 'sqlite') {
    const { openSqliteStore } = await import('@baton/store-sqlite');
    const filename = join(dir, 'baton.db');
    const store = await openSqliteStore({ filename });
    return { location: filename, store, cleanup: () => cleanup(store) };
  }
  const { openFileStore } = await import('@baton/store-file');
  const store = await openFileStore({ directory: dir, lockStaleMs: 2000 });
  return { location: dir, store, cleanup: () => cleanup(store) };
}

/** Which faults a store has: no backends to terminate or server to restart outside PostgreSQL. */
function faultsFor(store: StoreKind, wanted: FaultKind[]): FaultKind[] {
  return wanted.filter((f) => store === 'pg' || (f !== 'terminate' && f !== 'restart'));
}

/** The kinds of fault a run on this store injects: those it has, the restart only where allowed. */
export function faultPlan(store: StoreKind, wanted: FaultKind[], restartPg: boolean): FaultKind[] {
  return faultsFor(store, wanted).filter((f) => f !== 'restart' || (store === 'pg' && restartPg));
}

/**
 * The fault to inject next: first every kind of the plan not yet injected, in plan order
 * (so a short run hits each kind once before it repeats any: with plain turns, the short
 * run on PostgreSQL ended before its 4th fault, the restart); then the plan in turn. The
 * restart happens once; later turns pass over it.
 */
export function nextFault(plan: FaultKind[], done: Record<FaultKind, number>, turn: number): FaultKind | undefined {
  const missing = plan.find((f) => done[f] === 0);
  if (missing) return missing;
  const again = plan.filter((f) => f !== 'restart');
  return again[turn % Math.max(again.length, 1)];
}

/**
 * One store under fire: several worker processes run one big run while faults
 * hit them in turn (SIGKILL, SIGSTOP past the lease, terminated backends, one
 * PostgreSQL restart). Counts what the suite promises never happens.
 */
export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const began = Date.now();
  const tag = `[${o.store}]`;
  const home = await prepareStore(o);
  const events: Event[] = [];
  const workers: Worker[] = [];
  const crashDetails: string[] = [];
  const faults: Record<FaultKind, number> = { kill: 0, stop: 0, terminate: 0, restart: 0 };
  const recovery: number[] = [];
  const recoveryFrozen: number[] = [];
  const freezeMs = o.leaseMs + 2500;
  /** Per kill or freeze: when, whom, and which tasks it held. */
  const hits: { at: number; victim: string; held: string[]; kind: FaultKind }[] = [];
  let restartDoneAt: number | null = null;
  let restartAt: number | null = null;
  let restartSkipped: string | null = null;
  let seq = 0;

  const spawnWorker = (): Worker => {
    const id = `chaos_${o.store}_${++seq}`;
    const config: WorkerConfig = {
      store: o.store,
      location: home.location,
      ...(home.schema && { schema: home.schema }),
      workerId: id,
      concurrency: o.concurrency,
      leaseMs: o.leaseMs,
      // Recovery runs often, so a lost lease comes back within leaseMs + a quarter second.
      recoverIntervalMs: 250,
      workMs: o.workMs,
      tasks: o.tasks,
    };
    const child = spawn(process.execPath, ['--conditions=baton-source', '--import', 'tsx', workerScript, JSON.stringify(config)], {
      cwd: chaosDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let readyResolve!: () => void;
    const worker: Worker = {
      id,
      child,
      killedByUs: false,
      exited: false,
      isReady: false,
      frozen: false,
      ready: new Promise<void>((r) => (readyResolve = r)),
      drained: new Promise<void>((r) => child.stdout!.once('close', () => r())),
    };
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as Event;
        events.push(event);
        if (event.e === 'ready') {
          worker.isReady = true;
          readyResolve();
        }
        if (event.e === 'crash') crashDetails.push(`${id}: ${event.error?.split('\n')[0]}`);
      }
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => {
      worker.exited = true;
      readyResolve();
      if (!worker.killedByUs && !stopping) {
        if (!crashDetails.some((c) => c.startsWith(`${id}:`)))
          crashDetails.push(`${id}: exited with ${code ?? signal} ${stderr.split('\n').filter(Boolean).slice(-3).join(' | ')}`);
        o.log(`${tag} !! worker ${id} died on its own (${code ?? signal})`);
      }
    });
    workers.push(worker);
    return worker;
  };

  let stopping = false;
  try {
    // One process migrates and defines the workflow before the others race to.
    await spawnWorker().ready;
    for (let i = 1; i < o.workers; i++) spawnWorker();
    await Promise.all(workers.map((w) => w.ready));
    const workflow = (await home.store.findWorkflow('chaos'))!;
    const { run } = await home.store.createRun({ workflowId: workflow.id });
    o.log(`${tag} ${o.workers} workers, ${o.tasks} tasks, lease ${o.leaseMs} ms; faults: ${faultsFor(o.store, o.faults).join(', ')}`);

    const alive = () => workers.filter((w) => !w.exited && !w.killedByUs);
    const inFlight = (id: string) => {
      const open = new Map<string, number>();
      for (const ev of events) {
        if (ev.w !== id || !ev.task) continue;
        if (ev.e === 'start') open.set(ev.task, ev.t);
        if (ev.e === 'end') open.delete(ev.task);
      }
      return [...open.keys()];
    };
    const ended = () => new Set(events.filter((e) => e.e === 'end').map((e) => e.task)).size;
    const runStatus = async () => {
      try {
        return (await home.store.getRun(run.id)).status;
      } catch {
        return 'unknown (store unreachable)';
      }
    };

    const plan = faultPlan(o.store, o.faults, o.restartPg);
    if (o.store === 'pg' && o.faults.includes('restart') && !o.restartPg) restartSkipped = restartRefusal() ?? 'not requested';
    if (restartSkipped) o.log(`${tag} !!! SKIPPING the PostgreSQL restart: ${restartSkipped}`);
    let next = 0;
    let lastProgress = 0;
    const deadline = began + o.timeoutMs;
    const frozen = new Set<Promise<void>>();
    for (;;) {
      const status = await runStatus();
      if (['success', 'failed', 'cancelled'].includes(status)) break;
      if (Date.now() > deadline) {
        o.log(`${tag} !! gave up waiting for the run (status ${status})`);
        break;
      }
      const doneCount = ended();
      if (Date.now() - lastProgress > 2000) {
        lastProgress = Date.now();
        o.log(
          `${tag} ${doneCount}/${o.tasks} tasks ended · ${alive().length} workers · faults ${
            Object.entries(faults)
              .filter(([, n]) => n)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ') || 'none yet'
          }`,
        );
      }
      // Faults while the run is under way, leaving its last tenth to finish in peace.
      const fault = nextFault(plan, faults, next);
      if (fault && doneCount < o.tasks * 0.9 && doneCount > 0 && Date.now() - (hits.at(-1)?.at ?? began) > o.faultEveryMs) {
        next++;
        // Victims are ready, running workers: one fault at a time on each.
        const victims = alive().filter((w) => w.isReady && !w.frozen);
        const victim = victims[Math.floor(Math.random() * victims.length)];
        // What a victim held is read after the fault, once the lines it wrote before it have
        // arrived: read before, a task whose 'end' line was still in the pipe (its completion
        // already committed) counted as held, and CI once saw 12 take-overs for 16 "held".
        if (fault === 'kill' && victim) {
          const at = Date.now();
          victim.killedByUs = true;
          victim.child.kill('SIGKILL');
          spawnWorker();
          await Promise.race([victim.drained, sleep(2000)]);
          const held = inFlight(victim.id);
          hits.push({ at, victim: victim.id, held, kind: 'kill' });
          faults.kill++;
          o.log(`${tag} SIGKILL ${victim.id} holding ${held.length} tasks; a new worker takes its place`);
        } else if (fault === 'stop' && victim) {
          const at = Date.now();
          victim.child.kill('SIGSTOP');
          victim.frozen = true;
          // A stopped process writes nothing more; 300 ms lets the conductor read what it wrote.
          await sleep(300);
          const held = inFlight(victim.id);
          hits.push({ at, victim: victim.id, held, kind: 'stop' });
          faults.stop++;
          const ms = freezeMs;
          o.log(`${tag} SIGSTOP ${victim.id} holding ${held.length} tasks, for ${ms} ms (past its lease)`);
          const thaw = sleep(ms - (Date.now() - at)).then(() => {
            victim.frozen = false;
            if (!victim.exited) victim.child.kill('SIGCONT');
          });
          frozen.add(thaw);
          void thaw.then(() => frozen.delete(thaw));
        } else if (fault === 'terminate' && victim) {
          const rows = await pgQuery(o.pgUrl, `select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1`, [
            victim.id,
          ]).catch(() => []);
          faults.terminate++;
          hits.push({ at: Date.now(), victim: victim.id, held: [], kind: 'terminate' });
          o.log(`${tag} pg_terminate_backend on ${rows.filter((r) => r.ok).length} connections of ${victim.id}`);
        } else if (fault === 'restart') {
          restartAt = Date.now();
          faults.restart++;
          hits.push({ at: restartAt, victim: 'postgresql', held: [], kind: 'restart' });
          o.log(`${tag} restarting PostgreSQL…`);
          await restartPostgres();
          restartDoneAt = Date.now();
          o.log(`${tag} PostgreSQL is back (pg_isready) after ${((Date.now() - restartAt) / 1000).toFixed(1)} s`);
        }
      }
      await sleep(100);
    }
    await Promise.all(frozen);

    // Count. A held task is taken over by the first start of a newer attempt after the fault (by
    // another worker, or by the victim itself once thawed: a new claim under a new lease). On SQLite
    // and the file store a worker frozen inside a write holds the one write lock: nobody can recover
    // its leases until it thaws, and then it may finish its own attempt first, its lease never taken.
    // That is no take-over and no fault either (the task ran once); it is counted apart, checked
    // below to be the task's last attempt, and never expected on PostgreSQL.
    const resumedByHolder: { task: string; attempt: number }[] = [];
    for (const hit of hits) {
      for (const task of hit.held) {
        const heldAttempt = events.findLast((e) => e.e === 'start' && e.task === task && e.w === hit.victim && e.t <= hit.at)?.attempt ?? 0;
        const taken = events.find(
          (e) => e.e === 'start' && e.task === task && e.t >= hit.at && (e.w !== hit.victim || (e.attempt ?? 0) > heldAttempt),
        );
        if (taken) (hit.kind === 'stop' ? recoveryFrozen : recovery).push((taken.t - hit.at) / 1000);
        else if (
          hit.kind === 'stop' &&
          events.some((e) => e.e === 'end' && e.task === task && e.w === hit.victim && e.attempt === heldAttempt)
        )
          resumedByHolder.push({ task, attempt: heldAttempt });
        else {
          const later = events
            .filter((e) => e.task === task && e.t >= hit.at)
            .map((e) => `${e.e} by ${e.w} +${e.t - hit.at} ms, attempt ${e.attempt}`);
          o.log(
            `${tag} !! task ${task} held by ${hit.victim} (${hit.kind}) was neither taken over nor finished by it: ${later.join('; ') || 'nothing after the fault'}`,
          );
        }
      }
    }
    const tasks: Task[] = [];
    let cursor: string | null = null;
    do {
      const page = await home.store.listTasks({ runId: run.id, limit: 1000, cursor });
      tasks.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const starts = new Map<string, number>();
    for (const e of events) if (e.e === 'start') starts.set(e.task!, (starts.get(e.task!) ?? 0) + 1);
    const staleApplied = tasks.filter(
      (t) => t.status === 'success' && (t.output as { attempt?: number } | null)?.attempt !== t.attempt,
    ).length;
    // A task its frozen holder finished after thawing must have had no later attempt.
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const resumedNotLast = resumedByHolder.filter((r) => byId.get(r.task)?.attempt !== r.attempt).length;
    // Handlers that were running carry on through the restart; a start after the server is back needed a fresh claim.
    const restartResume =
      restartAt === null ? null : ((events.find((e) => e.e === 'start' && e.t >= restartDoneAt!)?.t ?? Number.NaN) - restartAt) / 1000;
    return {
      store: o.store,
      tasks: o.tasks,
      faults,
      planned: [...new Set(plan)],
      lost: tasks.filter((t) => t.status !== 'success').length + Math.max(0, o.tasks - tasks.length),
      rerun: [...starts.values()].filter((n) => n > 1).length,
      staleApplied,
      crashes: crashDetails.length,
      crashDetails,
      held: hits.reduce((n, h) => n + h.held.length, 0),
      resumedByHolder: resumedByHolder.length,
      resumedNotLast,
      recovery,
      recoveryFrozen,
      freezeMs,
      restartResume,
      restartSkipped,
      seconds: (Date.now() - began) / 1000,
      leaseMs: o.leaseMs,
    };
  } finally {
    stopping = true;
    for (const w of workers) {
      if (w.exited) continue;
      w.child.kill('SIGCONT');
      w.child.kill('SIGKILL');
    }
    await Promise.all(workers.filter((w) => !w.exited).map((w) => new Promise((r) => w.child.once('exit', r))));
    await home.cleanup().catch(() => {});
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
