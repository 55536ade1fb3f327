import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openSqliteStore } from '@baton/store-sqlite';
import { runAgent } from '../src/main.js';

it('examples/tool-agent: sequenced tool steps audited as tool executions, config read, the secret never shown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-agent-'));
  const store = await openSqliteStore({ filename: join(dir, 'agent.db') });
  try {
    const lines: string[] = [];
    const { run, tools, sessions } = await runAgent({ store, print: (l) => lines.push(l) });
    expect(run.status).toBe('success');
    expect(tools.map((t) => [t.toolName, t.status])).toEqual([
      ['weather.get', 'completed'],
      ['text.summarise', 'completed'],
      ['slow.channel', 'timeout'],
      ['report.publish', 'completed'],
    ]);
    expect(tools[1]!.output).toBe('Lisbon: 21°C and clear');
    expect(sessions.map((s) => s.id)).toContain('agent-worker-1');
    const everything = JSON.stringify({ lines, tools, logs: (await store.listLogs(run.id)).items });
    expect(everything).not.toContain('wx-secret-token-42');
    expect(everything).toContain('[redacted]');
    const order = (await store.listTasks({ runId: run.id })).items.map((t) => [t.stepName, t.startedAt!.getTime()] as const);
    expect(order.map(([s]) => s)).toEqual(['fetch', 'summarise', 'publish']);
    expect(order[0]![1]).toBeLessThanOrEqual(order[1]![1]);
    expect(order[1]![1]).toBeLessThanOrEqual(order[2]![1]);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
