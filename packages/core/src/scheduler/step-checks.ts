import { resolveStep } from '../definition.js';
import { BatonError, DefinitionError } from '../errors.js';
import type { Executor } from '../executor.js';
import type { WorkflowDefinition } from '../models.js';
import { FUNCTION_EXECUTOR, type FunctionExecutor, type TaskHandler } from './function-executor.js';

/**
 * `defineWorkflow`'s checks of a (shape-valid) definition against this
 * process: every handler names a step, every step's executor is registered,
 * every in-process step has a handler, and each executor accepts its step's
 * config. A failure is a DefinitionError naming the step.
 */
export function checkSteps(
  def: WorkflowDefinition,
  handlers: { [stepName: string]: TaskHandler },
  executors: ReadonlyMap<string, Executor>,
  functions: FunctionExecutor,
): void {
  for (const name of Object.keys(handlers)) {
    if (!def.steps.some((s) => s.name === name)) throw new DefinitionError(def.name, `handlers.${name}`, `no step named "${name}"`);
    if (typeof handlers[name] !== 'function') throw new DefinitionError(def.name, `handlers.${name}`, 'must be a function');
  }
  def.steps.forEach((step, i) => {
    const resolved = resolveStep({ ...def, executor: def.executor ?? null }, step.name);
    const executorName = resolved.executor ?? FUNCTION_EXECUTOR;
    const executor = executors.get(executorName);
    if (!executor)
      throw new DefinitionError(
        def.name,
        `steps.${i}.executor`,
        `unknown executor "${executorName}" (registered: ${[...executors.keys()].join(', ')})`,
      );
    if (executorName === FUNCTION_EXECUTOR) {
      const key = functions.keyOf(def.name, step.name, step.config);
      if (!handlers[step.name] && !functions.has(key)) {
        throw new DefinitionError(
          def.name,
          `steps.${i}`,
          `step "${step.name}" runs in-process but has no handler: pass one in defineWorkflow's handlers`,
        );
      }
    }
    try {
      executor.validateConfig?.(step.config ?? {}, resolved);
    } catch (error) {
      if (error instanceof BatonError) throw error;
      throw new DefinitionError(def.name, `steps.${i}.config`, (error as Error).message);
    }
  });
}
