import { KINDS, type Kind } from './layout.js';
import { PendingQueue } from './pending-queue.js';
import type { RecByKind, RunRec, TaskRec, WorkflowRec } from './records.js';

/**
 * Everything but logs, in memory, with the secondary indexes the operations
 * need. Records are immutable values: every change goes through `set`, which
 * keeps the indexes in step and lets a unit of work undo it.
 */
export class State {
  /** The last commit this memory reflects; -1 forces a full reload. */
  generation = -1;
  /** The newest commit this handle has seen; never reset, so a generation.json that went back is refused every time. */
  newestSeen = 0;
  nextLogId = 1;
  readySeq = 0;

  readonly records: { [K in Kind]: Map<string, RecByKind[K]> } = Object.fromEntries(KINDS.map((k) => [k, new Map()])) as never;
  readonly workflowIdByName = new Map<string, string>();
  /** `${workflowId}\n${idempotencyKey}` → run id. */
  readonly runIdByIdempotencyKey = new Map<string, string>();
  readonly pending = new PendingQueue();
  /** Tasks holding a lease (dispatched or running), for lease recovery. */
  readonly leased = new Set<string>();
  /** Execution name → ids of the tasks carrying it (usually one). */
  readonly tasksByExecutionName = new Map<string, Set<string>>();
  readonly #tasksByRun = new Map<string, { ids: string[]; sorted: boolean }>();

  get<K extends Kind>(kind: K, key: string): RecByKind[K] | undefined {
    return this.records[kind].get(key);
  }

  set<K extends Kind>(kind: K, key: string, rec: RecByKind[K] | undefined): void {
    const map = this.records[kind] as Map<string, RecByKind[K]>;
    const old = map.get(key);
    if (rec === undefined) map.delete(key);
    else map.set(key, rec);
    if (kind === 'tasks') this.#indexTask(key, old as TaskRec | undefined, rec as TaskRec | undefined);
    else if (kind === 'workflows') this.#indexWorkflow(old as WorkflowRec | undefined, rec as WorkflowRec | undefined);
    else if (kind === 'runs') this.#indexRun(old as RunRec | undefined, rec as RunRec | undefined);
  }

  /** Task ids of a run in plan order (step position, then task index). */
  tasksOfRun(runId: string): readonly string[] {
    const entry = this.#tasksByRun.get(runId);
    if (!entry) return [];
    if (!entry.sorted) {
      const tasks = this.records.tasks;
      entry.ids.sort((a, b) => {
        const x = tasks.get(a)!;
        const y = tasks.get(b)!;
        return x.position - y.position || x.taskIndex - y.taskIndex;
      });
      entry.sorted = true;
    }
    return entry.ids;
  }

  clear(): void {
    for (const kind of KINDS) this.records[kind].clear();
    this.workflowIdByName.clear();
    this.runIdByIdempotencyKey.clear();
    this.pending.clear();
    this.leased.clear();
    this.tasksByExecutionName.clear();
    this.#tasksByRun.clear();
    this.generation = -1;
    this.nextLogId = 1;
    this.readySeq = 0;
  }

  #indexTask(id: string, old: TaskRec | undefined, rec: TaskRec | undefined): void {
    if (old?.status === 'pending') this.pending.remove(id, old.priority, old.runAt);
    if (rec?.status === 'pending') this.pending.add(id, rec.priority, rec.runAt);
    const leased = rec?.status === 'dispatched' || rec?.status === 'running';
    if (leased) this.leased.add(id);
    else this.leased.delete(id);
    if (old?.executionName !== rec?.executionName) {
      if (old?.executionName) {
        const ids = this.tasksByExecutionName.get(old.executionName);
        ids?.delete(id);
        if (ids?.size === 0) this.tasksByExecutionName.delete(old.executionName);
      }
      if (rec?.executionName) {
        const ids = this.tasksByExecutionName.get(rec.executionName);
        if (ids) ids.add(id);
        else this.tasksByExecutionName.set(rec.executionName, new Set([id]));
      }
    }
    if (!old && rec) {
      const entry = this.#tasksByRun.get(rec.runId);
      if (entry) {
        // Plan order is creation order, so appends usually keep the list sorted.
        const last = entry.sorted ? this.records.tasks.get(entry.ids[entry.ids.length - 1]!) : undefined;
        entry.sorted =
          last !== undefined && (last.position < rec.position || (last.position === rec.position && last.taskIndex < rec.taskIndex));
        entry.ids.push(id);
      } else this.#tasksByRun.set(rec.runId, { ids: [id], sorted: true });
    } else if (old && !rec) {
      const entry = this.#tasksByRun.get(old.runId);
      if (entry) entry.ids = entry.ids.filter((t) => t !== id);
    }
  }

  #indexWorkflow(old: WorkflowRec | undefined, rec: WorkflowRec | undefined): void {
    if (old && this.workflowIdByName.get(old.name) === old.id) this.workflowIdByName.delete(old.name);
    if (rec) this.workflowIdByName.set(rec.name, rec.id);
  }

  #indexRun(old: RunRec | undefined, rec: RunRec | undefined): void {
    if (old?.idempotencyKey) this.runIdByIdempotencyKey.delete(`${old.workflowId}\n${old.idempotencyKey}`);
    if (rec?.idempotencyKey) this.runIdByIdempotencyKey.set(`${rec.workflowId}\n${rec.idempotencyKey}`, rec.id);
  }
}
