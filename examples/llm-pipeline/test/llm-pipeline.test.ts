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
