import { AsyncLocalStorage } from 'node:async_hooks';
import { stat } from 'node:fs/promises';
import { ConflictError, CorruptDataError, StoreClosedError, type MigrationState, type Store } from '@baton/core';
import type { DirLock } from './file-lock.js';
import { ApplyError, commit, readGeneration, recover } from './journal.js';
import { FORMAT, FORMAT_VERSION, GENERATION_FILE, MARKER_FILE, abs } from './layout.js';
import { catchUp, loadAll } from './loader.js';
import type { Ctx } from './ops/context.js';
import * as audit from './ops/audit.js';
import * as config from './ops/config.js';
import * as finish from './ops/finish.js';
import * as library from './ops/library.js';
import * as logs from './ops/logs.js';
import * as queue from './ops/queue.js';
import { listLimits } from './ops/limits.js';
import * as retry from './ops/retry.js';
import * as runs from './ops/runs.js';
import * as sessions from './ops/sessions.js';
import * as workflows from './ops/workflows.js';
import type { ReadyWatch } from './ready-watch.js';
import type { State } from './state.js';
import { Unit } from './unit.js';

/** What every handle object of one opened store shares. */
export interface Shared {
  dir: string;
  lock: DirLock;
  state: State;
  serial: Serial;
  closed: boolean;
  ready: ReadyWatch;
  /** Prepares the folder (marker, folders, generation); run with the lock held. */
  migrate: () => Promise<void>;
}

/**
 * The transaction the current async call chain runs in. Calls a transaction's
 * callback makes on the store itself, instead of on `tx`, join it: waiting for
 * the transaction to end would wait forever.
 */
const inTransaction = new AsyncLocalStorage<{ shared: Shared; tx: FileStore }>();

/**
 * The Store on a folder of JSON files. Unguarded: `openFileStore` wraps it
 * with core's `guardStore`.
 *
 * Calls on one handle run one at a time. A write takes the folder lock,
 * catches memory up with other processes' commits, runs the operation on
 * memory inside a unit of work, and commits the unit's files atomically
 * before releasing the lock. A read serves memory when `generation.json`
 * shows no commit since; otherwise it catches up first.
 */
export class FileStore implements Store {
  readonly kind = 'file';
  readonly #s: Shared;
  /** Set on the handle a transaction passes to its callback. */
  readonly #unit: Unit | null;
  #ended = false;

  constructor(shared: Shared, unit: Unit | null = null) {
    this.#s = shared;
    this.#unit = unit;
  }

  #check(): void {
    if (this.#s.closed) throw new StoreClosedError();
    if (this.#ended) throw new ConflictError('transaction', 'it has ended; use the store instead of the transaction handle');
  }

  /** The transaction handle to act through when called from inside one of this store's transactions. */
  #joined(): FileStore | null {
    if (this.#unit) return null;
    const active = inTransaction.getStore();
    return active && active.shared === this.#s && !active.tx.#ended ? active.tx : null;
  }

  async #read<T>(fn: (ctx: Ctx) => T | Promise<T>): Promise<T> {
    const joined = this.#joined();
    if (joined) return joined.#read(fn);
    this.#check();
    const { state, dir } = this.#s;
    if (this.#unit) return fn({ state, dir, unit: this.#unit });
    return this.#s.serial.run(async () => {
      this.#check();
      const onDisk = await readGeneration(dir);
      if (!onDisk) throw new CorruptDataError(abs(dir, GENERATION_FILE), 'missing: the store folder was removed or emptied');
      if (onDisk.generation !== state.generation) await this.#s.lock.run(() => this.#catchUp());
      return fn({ state, dir, unit: null });
    });
  }

  async #write<T>(fn: (unit: Unit) => T | Promise<T>): Promise<T> {
    const joined = this.#joined();
    if (joined) return joined.#write(fn);
    this.#check();
    if (this.#unit) {
      // Inside a transaction each operation is all-or-nothing on its own too.
      const savepoint = this.#unit.savepoint();
      try {
        return await fn(this.#unit);
      } catch (error) {
        this.#unit.rollbackTo(savepoint);
        throw error;
      }
    }
    return this.#s.serial.run(() =>
      this.#s.lock.run(async () => {
        this.#check();
        await this.#catchUp();
        const unit = new Unit(this.#s.state, this.#s.dir);
        const start = unit.savepoint();
        try {
          const result = await fn(unit);
          await this.#commit(unit);
          return result;
        } catch (error) {
          // Past the commit point memory already shows the commit, which the next lock holder completes.
          if (!(error instanceof ApplyError)) unit.rollbackTo(start);
          throw error;
        }
      }),
    );
  }

  /** With the lock held: completes a crashed commit, then brings memory to the applied generation. */
  async #catchUp(): Promise<void> {
    const { dir, state } = this.#s;
    try {
      const at = await recover(dir);
      // Commits only ever move forward: an older generation.json (restored from a backup,
      // copied from elsewhere) would make this handle reuse commit and log numbers.
      if (at.generation < state.newestSeen) {
        throw new CorruptDataError(
          abs(dir, GENERATION_FILE),
          `went back from commit ${state.newestSeen} to ${at.generation}: restore the newer one rather than overwrite later commits`,
        );
      }
      state.newestSeen = at.generation;
      if (at.generation === state.generation) return;
      if (!(await catchUp(dir, state, at))) await loadAll(dir, state, at);
    } catch (error) {
      state.generation = -1;
      throw error;
    }
  }

  async #commit(unit: Unit): Promise<void> {
    const changes = unit.changes();
    if (changes.length === 0) return;
    const { dir, state, lock } = this.#s;
    const next = { generation: state.generation + 1, nextLogId: state.nextLogId, readySeq: state.readySeq + (unit.tasksReady ? 1 : 0) };
    try {
      await commit(dir, next, changes, () => lock.assertHeld());
    } catch (error) {
      if (error instanceof ApplyError) Object.assign(state, { generation: next.generation, readySeq: next.readySeq });
      throw error;
    }
    state.generation = next.generation;
    state.newestSeen = Math.max(state.newestSeen, next.generation);
    state.readySeq = next.readySeq;
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.#unit) {
      this.#check();
      return fn(this);
    }
    const joined = this.#joined();
    if (joined) return joined.transaction(fn);
    return this.#write(async (unit) => {
      const tx = new FileStore(this.#s, unit);
      try {
        return await inTransaction.run({ shared: this.#s, tx }, () => fn(tx));
      } finally {
        tx.#ended = true;
      }
    });
  }

  async migrate(): Promise<void> {
    this.#check();
    if (this.#unit) return;
    await this.#s.serial.run(() => this.#s.lock.run(() => this.#s.migrate()));
  }

  /**
   * The folder has one "migration": its format version, written by the first
   * open (which is also when it was applied: the marker file's time).
   */
  async migrationStatus(): Promise<MigrationState[]> {
    this.#check();
    const marker = await stat(abs(this.#s.dir, MARKER_FILE)).catch(() => null);
    return [{ name: `${FORMAT}_v${FORMAT_VERSION}`, appliedAt: marker ? marker.mtime : null }];
  }

  /**
   * Calls `listener` when a commit (of any process on this folder) may have
   * made tasks claimable: new runs, unblocked dependents, retries, releases,
   * recovered leases, a workflow un-paused. Returns the unsubscribe function.
   */
  onTasksReady(listener: () => void): () => void {
    this.#check();
    return this.#s.ready.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.#unit || this.#s.closed) return;
    this.#s.closed = true;
    this.#s.ready.close();
    await this.#s.serial.idle();
  }

  createWorkflow: Store['createWorkflow'] = (d) => this.#write((u) => workflows.createWorkflow(u, d));
  updateWorkflow: Store['updateWorkflow'] = (id, p) => this.#write((u) => workflows.updateWorkflow(u, id, p));
  getWorkflow: Store['getWorkflow'] = (id) => this.#read((c) => workflows.getWorkflow(c.state, id));
  findWorkflow: Store['findWorkflow'] = (name) => this.#read((c) => workflows.findWorkflow(c.state, name));
  listWorkflows: Store['listWorkflows'] = (o) => this.#read((c) => workflows.listWorkflows(c.state, o ?? {}));

  createRun: Store['createRun'] = (i) => this.#write((u) => runs.createRun(u, i));
  createRuns: Store['createRuns'] = (i) => this.#write((u) => runs.createRuns(u, i));
  getRun: Store['getRun'] = (id) => this.#read((c) => runs.getRun(c.state, id));
  listRuns: Store['listRuns'] = (q) => this.#read((c) => runs.listRuns(c.state, q ?? {}));
  cancelRun: Store['cancelRun'] = (id, r) => this.#write((u) => runs.cancelRun(u, id, r));
  countRuns: Store['countRuns'] = (q) => this.#read((c) => runs.countRuns(c.state, q ?? {}));
  retryRun: Store['retryRun'] = (id) => this.#write((u) => retry.retryRun(u, id));
  getTask: Store['getTask'] = (id) => this.#read((c) => runs.getTask(c.state, id));
  findTaskByExecutionName: Store['findTaskByExecutionName'] = (n) => this.#read((c) => runs.findTaskByExecutionName(c.state, n));
  listTasks: Store['listTasks'] = (q) => this.#read((c) => runs.listTasks(c.state, q));
  getStepOutputs: Store['getStepOutputs'] = (id, s) => this.#read((c) => runs.getStepOutputs(c.state, id, s));

  claimTasks: Store['claimTasks'] = (o) => this.#write((u) => queue.claimTasks(u, o));
  markRunning: Store['markRunning'] = (i) => this.#write((u) => queue.markRunning(u, i));
  heartbeat: Store['heartbeat'] = (l, ms) => this.#write((u) => queue.heartbeat(u, l, ms));
  finishTasks: Store['finishTasks'] = (r) => this.#write((u) => finish.finishTasks(u, r));
  releaseTasks: Store['releaseTasks'] = (l) => this.#write((u) => queue.releaseTasks(u, l));
  recoverExpiredLeases: Store['recoverExpiredLeases'] = (now) => this.#write((u) => queue.recoverExpiredLeases(u, now));
  listLimits: Store['listLimits'] = () => this.#read((c) => listLimits(c.state));

  appendLogs: Store['appendLogs'] = (l) => this.#write((u) => logs.appendLogs(u, l));
  listLogs: Store['listLogs'] = (id, o) => this.#read((c) => logs.listLogs(c, id, o ?? {}));

  createBlock: Store['createBlock'] = (i) => this.#write((u) => library.createBlock(u, i));
  updateBlock: Store['updateBlock'] = (id, p) => this.#write((u) => library.updateBlock(u, id, p));
  getBlock: Store['getBlock'] = (id) => this.#read((c) => library.getBlock(c.state, id));
  listBlocks: Store['listBlocks'] = (o) => this.#read((c) => library.listBlocks(c.state, o ?? {}));
  deleteBlock: Store['deleteBlock'] = (id) => this.#write((u) => library.deleteBlock(u, id));
  createPayload: Store['createPayload'] = (i) => this.#write((u) => library.createPayload(u, i));
  updatePayload: Store['updatePayload'] = (id, p) => this.#write((u) => library.updatePayload(u, id, p));
  getPayload: Store['getPayload'] = (id) => this.#read((c) => library.getPayload(c.state, id));
  listPayloads: Store['listPayloads'] = (o) => this.#read((c) => library.listPayloads(c.state, o ?? {}));
  deletePayload: Store['deletePayload'] = (id) => this.#write((u) => library.deletePayload(u, id));

  setConfig: Store['setConfig'] = (e) => this.#write((u) => config.setConfig(u, e));
  getConfig: Store['getConfig'] = (k) => this.#read((c) => config.getConfig(c.state, k));
  listConfig: Store['listConfig'] = () => this.#read((c) => config.listConfig(c.state));
  deleteConfig: Store['deleteConfig'] = (k) => this.#write((u) => config.deleteConfig(u, k));

  registerSession: Store['registerSession'] = (i) => this.#write((u) => sessions.registerSession(u, i));
  heartbeatSession: Store['heartbeatSession'] = (id) => this.#write((u) => sessions.heartbeatSession(u, id));
  endSession: Store['endSession'] = (id) => this.#write((u) => sessions.endSession(u, id));
  listSessions: Store['listSessions'] = (o) => this.#read((c) => sessions.listSessions(c.state, o ?? {}));
  expireSessions: Store['expireSessions'] = (b, o) => this.#write((u) => sessions.expireSessions(u, b, o));

  recordToolExecution: Store['recordToolExecution'] = (i) => this.#write((u) => audit.recordToolExecution(u, i));
  finishToolExecution: Store['finishToolExecution'] = (id, e) => this.#write((u) => audit.finishToolExecution(u, id, e));
  listToolExecutions: Store['listToolExecutions'] = (o) => this.#read((c) => audit.listToolExecutions(c.state, o ?? {}));
}

/** Runs calls one after another. */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => {});
    return result;
  }

  /** Resolves once every call queued so far has ended. */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
