import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '@baton/store-sqlite';
import { spawnTs } from '@baton/test-kit';

/** A claimer process: ready when it waits for the go file; `done` with the task ids it claimed (its last line). */
function claimerProcess(filename: string, id: string) {
  const child = spawnTs(claimer, [filename, id]);
  const done = child.exited.then(({ code }) => {
    if (code !== 0) throw new Error(`claimer exited ${code}: ${child.stderr()}`);
    return JSON.parse(child.lines.at(-1)!) as string[];
  });
  return { ready: child.ready(), done };
}
const claimer = fileURLToPath(new URL('./fixtures/claimer.ts', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('store-sqlite: one database file, several processes', () => {
  it('two processes claiming from one file never get the same task', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-sqlite-mp-'));
    dirs.push(dir);
    const filename = join(dir, 'shared.db');
    const store = await openSqliteStore({ filename });
    const wf = await store.createWorkflow({ name: 'shared', steps: [{ name: 's', taskCount: 400 }] });
    const { run: created } = await store.createRun({ workflowId: wf.id });
    await store.close();

    const a = claimerProcess(filename, 'a');
    const b = claimerProcess(filename, 'b');
    await Promise.all([a.ready, b.ready]);
    writeFileSync(`${filename}.go`, '');
    const [gotA, gotB] = await Promise.all([a.done, b.done]);
    expect(gotA.length + gotB.length).toBe(400);
    expect(new Set([...gotA, ...gotB]).size).toBe(400);
    // Both processes did real work: the lock was shared, not held by one.
    expect(gotA.length).toBeGreaterThan(0);
    expect(gotB.length).toBeGreaterThan(0);

    const reopened = await openSqliteStore({ filename });
    const finished = await reopened.getRun(created.id);
    expect(finished.status).toBe('success');
    expect(finished.tasksFinished).toBe(400);
    await reopened.close();
  });

  it('creates the parent folders of the default-style path and migrates idempotently', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-sqlite-open-'));
    dirs.push(dir);
    const filename = join(dir, 'nested', 'deeper', 'baton.db');
    const first = await openSqliteStore({ filename });
    await first.migrate();
    await first.createWorkflow({ name: 'kept', steps: [{ name: 's' }] });
    await first.close();
    const second = await openSqliteStore({ filename });
    await second.migrate();
    expect((await second.findWorkflow('kept'))?.name).toBe('kept');
    await second.close();
  });
});
