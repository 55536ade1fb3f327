import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnTs } from '@baton/test-kit';
import { alive, groupMembers, waitFor } from '../helpers.js';

const worker = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

/** Starts the stand-in worker and resolves with its pid and the pids of the task's processes. */
async function startWorker(): Promise<{ worker: number; group: number; child: number; grandchild: number; exited: Promise<unknown> }> {
  const proc = spawnTs(worker, []);
  const line = await proc.line((l) => /^pids \d+ \d+ \d+/.test(l));
  const [group, child, grandchild] = /pids (\d+) (\d+) (\d+)/.exec(line)!.slice(1).map(Number) as [number, number, number];
  return { worker: proc.process.pid!, group, child, grandchild, exited: proc.exited };
}

describe('process executor leaves no orphans', () => {
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`when its worker is ${signal}ed`, async () => {
      const w = await startWorker();
      expect(alive(w.child)).toBe(true);
      expect(alive(w.grandchild)).toBe(true);
      expect(groupMembers(w.group)).toEqual(expect.arrayContaining([w.group, w.child, w.grandchild]));
      process.kill(w.worker, signal);
      await w.exited;
      // The child ignores SIGTERM: the supervisor's grace period (300 ms) then SIGKILL ends it.
      expect(await waitFor(() => groupMembers(w.group).length === 0, 10_000)).toBe(true);
      expect(alive(w.child)).toBe(false);
      expect(alive(w.grandchild)).toBe(false);
    });
  }
});
