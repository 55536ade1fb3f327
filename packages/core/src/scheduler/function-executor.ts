import type { Executor, TaskContext } from '../executor.js';
import type { Json } from '../models.js';

/** An in-process handler: what it returns is the task's output; what it throws fails the attempt. */
export type TaskHandler = (ctx: TaskContext) => Promise<Json | void> | Json | void;

export const FUNCTION_EXECUTOR = 'function';

/**
 * Runs handlers registered in this process. A step finds its handler by
 * `config.handler`, else by `<workflow>/<step>` as registered by
 * `defineWorkflow(definition, handlers)`.
 */
export class FunctionExecutor implements Executor {
  readonly name = FUNCTION_EXECUTOR;
  readonly #handlers = new Map<string, TaskHandler>();

  register(key: string, handler: TaskHandler): void {
    this.#handlers.set(key, handler);
  }

  keyOf(workflowName: string, stepName: string, config: { [key: string]: Json } | undefined): string {
    return typeof config?.handler === 'string' ? config.handler : `${workflowName}/${stepName}`;
  }

  has(key: string): boolean {
    return this.#handlers.has(key);
  }

  async execute(ctx: TaskContext): Promise<Json | void> {
    const key = this.keyOf(ctx.workflow.name, ctx.task.stepName, ctx.step.step.config);
    const handler = this.#handlers.get(key);
    if (!handler) throw new Error(`no handler "${key}" is registered in this process: call defineWorkflow with its handlers here`);
    return handler(ctx);
  }
}
