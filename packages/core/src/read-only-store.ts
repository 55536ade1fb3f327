import type { Store } from './store.js';

/**
 * The store operations that only read. A handler gets these and nothing else in
 * `ctx.store`: writing, claiming, finishing or closing belongs to the scheduler
 * (a handler that called `finishTasks` or `close` would break its own attempt).
 * Stores use the same list for what is safe to repeat after a dropped connection.
 */
export const STORE_READS = [
  'getWorkflow',
  'findWorkflow',
  'listWorkflows',
  'getRun',
  'listRuns',
  'countRuns',
  'getTask',
  'findTaskByExecutionName',
  'listTasks',
  'getStepOutputs',
  'listLimits',
  'listLogs',
  'getBlock',
  'listBlocks',
  'getPayload',
  'listPayloads',
  'getConfig',
  'listConfig',
  'listSessions',
  'listToolExecutions',
  'migrationStatus',
] as const satisfies readonly (keyof Store)[];

/** What `ctx.store` offers: reads, and a transaction whose `tx` reads too (consistent reads across calls). */
export type ReadOnlyStore = Pick<Store, 'kind' | (typeof STORE_READS)[number]> & {
  transaction<T>(fn: (tx: ReadOnlyStore) => Promise<T>): Promise<T>;
};

/**
 * A view of `store` that has only its reads: the type lacks the writes, and so
 * does the object (a cast cannot reach them). Built once per worker, not per task.
 */
export function readOnlyView(store: Store): ReadOnlyStore {
  const view = { kind: store.kind } as Record<string, unknown>;
  for (const name of STORE_READS) view[name] = (store[name] as (...args: unknown[]) => unknown).bind(store);
  view.transaction = <T>(fn: (tx: ReadOnlyStore) => Promise<T>) => store.transaction((tx) => fn(readOnlyView(tx)));
  return Object.freeze(view) as unknown as ReadOnlyStore;
}
