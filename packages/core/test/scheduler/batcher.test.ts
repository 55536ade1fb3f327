import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/scheduler/batcher.js';

/** A write that records its batches and takes `ms` to complete. */
function recorder(ms: number) {
  const batches: number[][] = [];
  const write = async (items: number[]) => {
    batches.push(items);
    await new Promise((r) => setTimeout(r, ms));
    return items.map((i) => i * 10);
  };
  return { batches, write };
}

describe('Batcher', () => {
  it('writes once per delay at low load, and groups what arrives during a write into the next one', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher(
      async (items: number[]) => {
        batches.push(items);
        await gate; // the first write stays in flight until the test lets it go
        return items.map((i) => i * 10);
      },
      1000,
      2,
    );
    const first = b.add(1);
    while (batches.length === 0) await new Promise((r) => setTimeout(r, 1));
    // Items trickle in, each long after the 2 ms delay, while that write runs.
    const rest: Promise<number>[] = [];
    for (let i = 2; i <= 6; i++) {
      rest.push(b.add(i));
      await new Promise((r) => setTimeout(r, 8));
    }
    expect(batches).toEqual([[1]]);
    release();
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual([20, 30, 40, 50, 60]);
    // One write for the first item, one for everything that came while it ran.
    expect(batches).toEqual([[1], [2, 3, 4, 5, 6]]);
  });

  it('keeps order and caps a write at maxSize', async () => {
    const { batches, write } = recorder(5);
    const b = new Batcher(write, 3, 1);
    await Promise.all(Array.from({ length: 8 }, (_, i) => b.add(i)));
    expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Math.max(...batches.map((x) => x.length))).toBeLessThanOrEqual(3);
  });

  it('flush resolves once everything added before it is written, without waiting for the delay', async () => {
    const { batches, write } = recorder(5);
    const b = new Batcher(write, 100, 10_000);
    void b.add(1);
    void b.add(2);
    const started = Date.now();
    await b.flush();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(batches).toEqual([[1, 2]]);
    await b.flush(); // nothing waits: returns at once
  });

  it('a withdrawn item is never written, and flush does not wait for it', async () => {
    const { batches, write } = recorder(5);
    const b = new Batcher(write, 100, 10_000);
    const kept = b.add(1);
    const taken = b.add(2);
    expect(b.withdraw(2, -1)).toBe(true);
    expect(await taken).toBe(-1);
    await b.flush();
    expect(await kept).toBe(10);
    expect(batches).toEqual([[1]]);
    expect(b.withdraw(1, -1)).toBe(false);
  });

  it('a failed write rejects its items only; the next write goes ahead', async () => {
    let calls = 0;
    const b = new Batcher<number, number>(
      async (items) => {
        if (++calls === 1) throw new Error('disk full');
        return items;
      },
      1,
      1,
    );
    const a = b.add(1);
    const c = b.add(2);
    await expect(a).rejects.toThrow('disk full');
    expect(await c).toBe(2);
  });
  it('a due write waits for the setImmediate callbacks queued before it: what they add joins it (handlers starting in one turn, attempt.ts)', async () => {
    const { batches, write } = recorder(0);
    const b = new Batcher(write, 100, 2);
    const done = await new Promise<number[]>((resolve) =>
      // In a check phase, as the scheduler's handler starts are.
      setImmediate(() => {
        const first = b.add(1);
        // Queued now, runs in the next check phase: after the timers phase in which the delay has expired.
        let second!: Promise<number>;
        setImmediate(() => (second = b.add(2)));
        const until = performance.now() + 5;
        while (performance.now() < until); // the 2 ms delay is over before the loop turns
        resolve(new Promise<number[]>((r) => setTimeout(() => r(Promise.all([first, second])), 20)));
      }),
    );
    expect(done).toEqual([10, 20]);
    // Without the extra turn the timer wrote [1] alone and [2] in a write of its own.
    expect(batches).toEqual([[1, 2]]);
  });
});
