import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openSqliteStore } from '@baton/store-sqlite';
import { runPipeline } from '../src/main.js';

it('examples/llm-pipeline: two payloads in order, the first response feeding the second, metadata kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-llm-'));
  const store = await openSqliteStore({ filename: join(dir, 'llm.db') });
  try {
    const { run, responses } = await runPipeline({ store, topic: 'queues', print: () => {} });
    expect(run.status).toBe('success');
    expect(responses.map((r) => r.step)).toEqual(['outline', 'expand']);
    const [outline, expand] = responses.map((r) => r.output as any);
    expect(outline).toMatchObject({ format: 'chatml', payloadName: 'outline', api: 'kobold' });
    expect(outline.text).toContain('(0.2)');
    expect(expand).toMatchObject({ format: 'mistral', payloadName: 'expand' });
    expect(expand.text).toContain('(0.9)');
    expect(expand.durationMs).toBeGreaterThanOrEqual(0);
    // The stand-in echoes the prompt's last line: the expand step saw the outline's response.
    expect(outline.text).toContain('echo: Use plain words.');
    expect(expand.text).toContain(`echo: ${outline.text}`);
    expect((await store.listBlocks({ folderPath: 'Phase 1/Instructions' })).items.map((b) => b.title)).toEqual(['1 Task', '2 Style']);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('examples/llm-pipeline: requests to one provider hold its rate limit across runs, and waiting tasks say which key limits them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-llm-rate-'));
  const store = await openSqliteStore({ filename: join(dir, 'llm.db') });
  const lines: string[] = [];
  try {
    const rate = { limit: 2, periodMs: 600 };
    const { runs } = await runPipeline({ store, topics: ['a', 'b', 'c'], rate, print: (l) => lines.push(l) });
    expect(runs.map((r) => r.status)).toEqual(['success', 'success', 'success']);
    const claims = (await Promise.all(runs.map((r) => store.listTasks({ runId: r.id }))))
      .flatMap((p) => p.items)
      .map((t) => t.dispatchedAt!.getTime())
      .sort((a, b) => a - b);
    expect(claims).toHaveLength(6);
    // No window of 600 ms holds more than 2 requests to the provider, so 6 need three windows.
    for (let i = 0; i + rate.limit < claims.length; i++) expect(claims[i + rate.limit]! - claims[i]!).toBeGreaterThanOrEqual(rate.periodMs);
    expect(lines.some((l) => /limited by rate key llm:kobold@127\.0\.0\.1:\d+ \(2\/2 per 0\.6 s\)/.test(l))).toBe(true);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
