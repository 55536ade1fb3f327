import { z } from 'zod';
import { validateDefinition } from './definition.js';
import { NotFoundError, ValidationError } from './errors.js';
import type { BlockRef } from './models.js';
import type { Store } from './store.js';
import * as v from './validation.js';

// Built once: constructing a zod schema costs more than using it, and some of
// these guard the scheduler's hot path (finishTasks, appendLogs, markRunning).
const leases = z.array(v.lease);
const runningTasks = z.array(
  v.lease.extend({ executionName: z.string().min(1).max(1000).optional(), startedAt: z.date().optional() }).strict(),
);
const newRuns = z.array(v.newRun).max(v.MAX_RUNS_PER_CALL, `at most ${v.MAX_RUNS_PER_CALL} runs per call`);
const taskResults = z.array(v.taskResult);
const newLogs = z.array(v.newLog);
const workflowName = z.string().min(1, 'must not be empty');
const executionName = z.string().min(1, 'must not be empty').max(1000);
const cancelReason = z.string().max(10_000).optional();
const stepNames = z.array(v.name);
const optionalDate = z.date().optional();
const date = z.date();
const logQuery = z.object({ taskId: v.id.optional(), ...v.pageOptions }).strict();
const payloadQuery = z.object(v.pageOptions).strict();
const sessionQuery = z.object({ activeOnly: z.boolean().optional() }).strict();

/** The store each guard wraps: see `unguarded`. */
const innerOf = new WeakMap<Store, Store>();

/**
 * The store under a guard made by `guardStore` (any other store as it is), for
 * the scheduler's endings and running marks only: it builds those arguments
 * itself (leases the store handed out, outputs it checked with `isJson`, error
 * texts it cut to 16,000 characters), and parsing them again with zod cost 135 ms
 * of 2,100 (6%) in a CPU profile of 20,000 no-op tasks on SQLite. Likewise
 * `triggerMany`'s runs, whose items it checked itself by the same schema
 * (zod ~30 ms of a 20,000-run call, twice). Everything else a handler or a
 * host passes still goes through the guard.
 */
export function unguarded(store: Store): Store {
  return innerOf.get(store) ?? store;
}

/**
 * Wraps a store so that every public operation validates its input first and
 * fails with a ValidationError naming the field, before anything is written.
 * Store packages return their store through this, so the rules live once.
 */
export function guardStore(inner: Store): Store {
  const p = v.parse;
  const idArg = (value: unknown, what: string) => p(v.id, value, what);
  const guarded: Store = {
    get kind() {
      return inner.kind;
    },
    createWorkflow: async (def) => inner.createWorkflow(validateDefinition(def)),
    updateWorkflow: async (id, patch) => inner.updateWorkflow(idArg(id, 'workflow id'), p(v.workflowPatch, patch, 'workflow patch')),
    getWorkflow: async (id) => inner.getWorkflow(idArg(id, 'workflow id')),
    findWorkflow: async (name) => inner.findWorkflow(p(workflowName, name, 'workflow name')),
    listWorkflows: async (o) => inner.listWorkflows(p(v.workflowQuery, o ?? {}, 'workflow query')),

    createRun: async (input) => inner.createRun(p(v.newRun, input, 'run')),
    // Paths name the item: "items.3.inputs". Nothing reaches the store when one is bad.
    createRuns: async (inputs) => inner.createRuns(p(newRuns, inputs, 'runs')),
    getRun: async (id) => inner.getRun(idArg(id, 'run id')),
    listRuns: async (q) => inner.listRuns(p(v.runQuery, q ?? {}, 'run query')),
    cancelRun: async (id, reason) => inner.cancelRun(idArg(id, 'run id'), p(cancelReason, reason, 'cancel reason')),
    countRuns: async (q) => inner.countRuns(p(v.runCountQuery, q ?? {}, 'run count query')),
    retryRun: async (id) => inner.retryRun(idArg(id, 'run id')),
    getTask: async (id) => inner.getTask(idArg(id, 'task id')),
    findTaskByExecutionName: async (name) => inner.findTaskByExecutionName(p(executionName, name, 'execution name')),
    listTasks: async (q) => inner.listTasks(p(v.taskQuery, q, 'task query')),
    getStepOutputs: async (runId, steps) => inner.getStepOutputs(idArg(runId, 'run id'), p(stepNames, steps, 'step names')),

    claimTasks: async (o) => inner.claimTasks(p(v.claimOptions, o, 'claim options')),
    markRunning: async (items) => inner.markRunning(p(runningTasks, items, 'running tasks')),
    heartbeat: async (ls, leaseMs) => inner.heartbeat(p(leases, ls, 'leases'), p(v.leaseMs, leaseMs, 'leaseMs')),
    finishTasks: async (results) => inner.finishTasks(p(taskResults, results, 'task results')),
    releaseTasks: async (ls) => inner.releaseTasks(p(leases, ls, 'leases')),
    recoverExpiredLeases: async (now) => inner.recoverExpiredLeases(p(optionalDate, now, 'now')),
    listLimits: async () => inner.listLimits(),

    appendLogs: async (logs) => inner.appendLogs(p(newLogs, logs, 'logs')),
    listLogs: async (runId, o) => inner.listLogs(idArg(runId, 'run id'), p(logQuery, o ?? {}, 'log query')),

    createBlock: async (input) => inner.createBlock(p(v.newBlock, input, 'block')),
    updateBlock: async (id, patch) => inner.updateBlock(idArg(id, 'block id'), p(v.blockPatch, patch, 'block patch')),
    getBlock: async (id) => inner.getBlock(idArg(id, 'block id')),
    listBlocks: async (o) => inner.listBlocks(p(v.blockQuery, o ?? {}, 'block query')),
    deleteBlock: async (id) => inner.deleteBlock(idArg(id, 'block id')),
    createPayload: async (input) => inner.createPayload(await blocksExist(inner, p(v.newPayload, input, 'payload'), 'payload')),
    updatePayload: async (id, patch) =>
      inner.updatePayload(idArg(id, 'payload id'), await blocksExist(inner, p(v.payloadPatch, patch, 'payload patch'), 'payload patch')),
    getPayload: async (id) => inner.getPayload(idArg(id, 'payload id')),
    listPayloads: async (o) => inner.listPayloads(p(payloadQuery, o ?? {}, 'payload query')),
    deletePayload: async (id) => inner.deletePayload(idArg(id, 'payload id')),

    setConfig: async (entry) => inner.setConfig(p(v.newConfigEntry, entry, 'config entry')),
    getConfig: async (key) => inner.getConfig(p(v.configKey, key, 'config key')),
    listConfig: async () => inner.listConfig(),
    deleteConfig: async (key) => inner.deleteConfig(p(v.configKey, key, 'config key')),

    registerSession: async (input) => inner.registerSession(p(v.newSession, input, 'session')),
    heartbeatSession: async (id) => inner.heartbeatSession(idArg(id, 'session id')),
    endSession: async (id) => inner.endSession(idArg(id, 'session id')),
    listSessions: async (o) => inner.listSessions(p(sessionQuery, o ?? {}, 'session query')),
    expireSessions: async (before, o) =>
      inner.expireSessions(p(date, before, 'before'), p(v.expireSessionsOptions, o ?? {}, 'expire options')),

    recordToolExecution: async (input) => inner.recordToolExecution(p(v.newToolExecution, input, 'tool execution')),
    finishToolExecution: async (id, end) =>
      inner.finishToolExecution(idArg(id, 'tool execution id'), p(v.toolExecutionEnd, end, 'tool execution end')),
    listToolExecutions: async (o) => inner.listToolExecutions(p(v.toolExecutionQuery, o ?? {}, 'tool execution query')),

    transaction: (fn) => inner.transaction((tx) => fn(tx === inner ? guarded : guardStore(tx))),
    migrate: () => inner.migrate(),
    migrationStatus: () => inner.migrationStatus(),
    close: () => inner.close(),
  };
  if (inner.onTasksReady) guarded.onTasksReady = (listener) => inner.onTasksReady!(listener);
  innerOf.set(guarded, inner);
  return guarded;
}

/**
 * A payload naming a block by id must name one that exists: found at the call,
 * not when an LLM step assembles its prompt. (Tag references are resolved at
 * run time and may match nothing yet.)
 */
async function blocksExist<T extends { blocks?: BlockRef[] | null | undefined }>(store: Store, input: T, what: string): Promise<T> {
  const issues = [];
  for (const [i, ref] of (input.blocks ?? []).entries()) {
    if (!('blockId' in ref)) continue;
    try {
      await store.getBlock(ref.blockId);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      issues.push({ path: `blocks.${i}.blockId`, message: `no block with id "${ref.blockId}"` });
    }
  }
  if (issues.length > 0) throw new ValidationError(what, issues);
  return input;
}
