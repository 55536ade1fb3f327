import type { ResolvedStep } from '../definition.js';
import type { ClaimedTask } from '../store.js';

/**
 * What this process may take on: `concurrency` executor slots, and each
 * workflow's and step's per-process `concurrency` number. (Cluster-wide keys
 * are the store's: its claim never hands out a task whose key is full.)
 *
 * A task counts from its admission until its executor returns; the lease it
 * holds while its end is written counts only against `free`'s second bound.
 */
export class Admission {
  readonly #concurrency: number;
  /** Tasks executing per workflow id and per `workflowId/stepName`. */
  readonly #perKey = new Map<string, number>();
  /** Tasks whose executor runs now: what `concurrency` limits. */
  #executing = 0;

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
  }

  /**
   * How many tasks the next claim may take, given the leases `held` here (tasks
   * executing, or whose end waits for its write): free executor slots, and no
   * more than `concurrency` endings waiting for their batched write, or a store
   * slower to finish than to claim would pile up leased tasks.
   */
  free(held: number): number {
    return Math.min(this.#concurrency - this.#executing, 2 * this.#concurrency - held);
  }

  /** Counts a claimed task against its workflow's and step's limits; false (nothing counted) when either is full. */
  admit(c: ClaimedTask, step: ResolvedStep): boolean {
    const wKey = c.workflow.id;
    const sKey = stepKey(c);
    const perProcess = c.workflow.concurrency;
    if (typeof perProcess === 'number' && this.#count(wKey) >= perProcess) return false;
    if (step.concurrency !== null && this.#count(sKey) >= step.concurrency) return false;
    this.#perKey.set(wKey, this.#count(wKey) + 1);
    this.#perKey.set(sKey, this.#count(sKey) + 1);
    this.#executing++;
    return true;
  }

  /** The task's executor returned (or threw): its slot and its workflow's and step's counts free. Once per admitted task. */
  executed(c: ClaimedTask): void {
    this.#executing--;
    for (const key of [c.workflow.id, stepKey(c)]) this.#perKey.set(key, (this.#perKey.get(key) ?? 1) - 1);
  }

  /** Workflows, among those of the tasks `held` here, whose own limit is reached on this process: the next claim skips them. */
  saturatedWorkflows(held: Iterable<ClaimedTask>): string[] {
    const out = new Set<string>();
    for (const { workflow } of held) {
      const limit = workflow.concurrency;
      if (typeof limit === 'number' && this.#count(workflow.id) >= limit) out.add(workflow.id);
    }
    return [...out];
  }

  #count(key: string): number {
    return this.#perKey.get(key) ?? 0;
  }
}

const stepKey = (c: ClaimedTask) => `${c.workflow.id}/${c.task.stepName}`;
