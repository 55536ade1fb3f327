import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive, groupMembers, waitFor } from '../helpers.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const worker = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

/** Starts the stand-in worker and resolves with its pid and the pids of the task's processes. */
async function startWorker(): Promise<{ worker: number; group: number; child: number; grandchild: number; exited: Promise<unknown> }> {
  const proc = spawn(process.execPath, ['--conditions=baton-source', '--import', 'tsx', worker], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let out = '';
  const pids = await new Promise<number[]>((resolve, reject) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /pids (\d+) (\d+) (\d+)/.exec(out);
      if (match) resolve(match.slice(1).map(Number));
    });
    proc.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${out}`)));
  });
  const [group, child, grandchild] = pids as [number, number, number];
  return { worker: proc.pid!, group, child, grandchild, exited };
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
