import { describe, expect, it } from 'vitest';
import { DefinitionError, ValidationError, type Workflow } from '@baton/core';
import { checkKeyTemplate, evaluateKey, planRun, validateDefinition } from '@baton/core/store-kit';

describe('limit keys', () => {
  const source = {
    inputs: { provider: 'openai', region: { name: 'eu' }, n: 3, flag: true },
    params: { url: 'https://api.example.com:8443/v1/chat?q=1' },
  };

  it('fills placeholders from inputs and params, nested fields, numbers and booleans, and the host filter', () => {
    expect(evaluateKey('fixed', source, 'x')).toBe('fixed');
    expect(evaluateKey('llm:{inputs.provider}/{inputs.region.name}', source, 'x')).toBe('llm:openai/eu');
    expect(evaluateKey('{inputs.n}-{inputs.flag}', source, 'x')).toBe('3-true');
    expect(evaluateKey('host:{ params.url | host }', source, 'x')).toBe('host:api.example.com:8443');
    expect(evaluateKey('{inputs.region}', source, 'x')).toBe('{"name":"eu"}');
  });

  it('rejects what it cannot evaluate', () => {
    expect(() => evaluateKey('p:{inputs.model}', source, 'step "s"')).toThrow(ValidationError);
    expect(() => evaluateKey('p:{inputs.model}', source, 'step "s"')).toThrow(
      /model.*needed by the limit key "p:\{inputs.model\}" of step "s"/,
    );
    expect(() => evaluateKey('{inputs.provider|host}', source, 'step "s"')).toThrow(/must be a URL/);
    for (const bad of ['{env.HOME}', '{inputs}', '{params.x|lower}', 'a}b', '{inputs.a']) {
      expect(() => checkKeyTemplate('wf', 'steps.0.concurrency.key', bad), bad).toThrow(DefinitionError);
    }
    expect(() => checkKeyTemplate('wf', 'k', 'ok:{inputs.a.b}:{params.c|host}')).not.toThrow();
  });

  it('plans each task with its own keys; the workflow limit applies where a step sets none, a number stays per process', () => {
    const def = validateDefinition({
      name: 'wf',
      concurrency: { key: 'w:{inputs.provider}', limit: 5 },
      rateLimit: { key: 'r', limit: 10, periodMs: 1000 },
      steps: [
        {
          name: 'a',
          paramsList: [{ url: 'https://x.test/1' }, { url: 'https://y.test/2' }],
          concurrency: { key: '{params.url|host}', limit: 1 },
        },
        { name: 'b', concurrency: 2, rateLimit: { key: 'rb', limit: 1, periodMs: 50 } },
      ],
    });
    const workflow = {
      ...def,
      id: 'w',
      description: null,
      status: 'active',
      executor: null,
      schedules: [],
      metadata: {},
      createdAt: new Date(),
      updatedAt: new Date(),
    } as Workflow;
    const plan = planRun(workflow, { provider: 'p' });
    expect(plan.tasks.map((t) => [t.stepName, t.concurrencyLimit, t.rateLimit])).toEqual([
      ['a', { key: 'x.test', limit: 1 }, { key: 'r', limit: 10, periodMs: 1000 }],
      ['a', { key: 'y.test', limit: 1 }, { key: 'r', limit: 10, periodMs: 1000 }],
      ['b', { key: 'w:p', limit: 5 }, { key: 'rb', limit: 1, periodMs: 50 }],
    ]);
    expect(() => planRun(workflow, {})).toThrow(ValidationError);
  });
});
