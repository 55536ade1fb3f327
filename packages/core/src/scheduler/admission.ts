import type { ResolvedStep } from '../definition.js';
import type { ClaimedTask } from '../store.js';

/** A workflow's tasks executing on this process, in all and per step, and its own limit. */
interface WorkflowCounts {
  executing: number;
  /** The workflow's setting on the last task admitted (a redefinition takes effect with its first task); a number is this process's limit. */
  limit: ClaimedTask['workflow']['concurrency'];
  steps: Map<string, number>;
}

/**
 * What this process may take on: `concurrency` executor slots, and each
 * workflow's and step's per-process `concurrency` number. (Cluster-wide keys
 * are the store's: its claim never hands out a task whose key is full.)
 *
 * A task counts from its admission until its executor returns; the lease it
 * holds while its end is written counts only against `free`'s second bound.
 *
 * Counts are kept per workflow id, then per step name, and a workflow with
 * nothing executing is forgotten: no key strings built per task, and the
 * saturated workflows are read from the few workflows executing here, not
 * from every task held (up to twice `concurrency`, walked at every claim:
 * 22 ms of a 20,000-task PostgreSQL fan-out's CPU profile, ~6% of the
 * scheduler process's busy time).
 */
export class Admission {
  readonly #concurrency: number;
  readonly #workflows = new Map<string, WorkflowCounts>();
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
    const limit = c.workflow.concurrency;
    const counts = this.#workflows.get(c.workflow.id);
    if (typeof limit === 'number' && (counts?.executing ?? 0) >= limit) return false;
    const inStep = counts?.steps.get(c.task.stepName) ?? 0;
    if (step.concurrency !== null && inStep >= step.concurrency) return false;
    if (counts) {
      counts.executing++;
      counts.limit = limit;
      counts.steps.set(c.task.stepName, inStep + 1);
    } else {
      this.#workflows.set(c.workflow.id, { executing: 1, limit, steps: new Map([[c.task.stepName, 1]]) });
    }
    this.#executing++;
    return true;
  }

  /** The task's executor returned (or threw): its slot and its workflow's and step's counts free. Once per admitted task. */
  executed(c: ClaimedTask): void {
    this.#executing--;
    const counts = this.#workflows.get(c.workflow.id);
    if (!counts) return;
    if (--counts.executing <= 0) this.#workflows.delete(c.workflow.id);
    else counts.steps.set(c.task.stepName, (counts.steps.get(c.task.stepName) ?? 1) - 1);
  }

  /** Workflows whose own limit is reached on this process: the next claim skips them. */
  saturatedWorkflows(): string[] {
    const out: string[] = [];
    for (const [id, { executing, limit }] of this.#workflows) if (typeof limit === 'number' && executing >= limit) out.push(id);
    return out;
  }
}
