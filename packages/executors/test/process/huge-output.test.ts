import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { processExecutor, RESULT_MARKER } from '../../src/process/index.js';
import { makeContext } from '../helpers.js';

const MB = 1024 * 1024;

// A real gc() without restarting the test worker with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Heap plus buffer memory still held after `work`, compared with before. Freed
 * buffers are released in the background after a collection: the least of a
 * few collections a little apart is what is really held.
 */
async function retainedGrowth<T>(work: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const used = async () => {
    let least = Infinity;
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      const m = process.memoryUsage();
      least = Math.min(least, m.heapUsed + m.arrayBuffers);
    }
    return least;
  };
  const start = await used();
  const value = await work();
  const growth = (await used()) - start;
  return { value, growth };
}

describe('process executor with huge output', () => {
  const executor = processExecutor({ maxLogBytes: 2 * MB });

  it('logs 50 MB of lines within the log budget and still finds the result', async () => {
    const t = makeContext({
      config: {
        command: process.execPath,
        args: [
          '-e',
          `const line = 'y'.repeat(99) + '\\n';
           const chunk = line.repeat(10000);
           let left = 50;
           const write = () => {
             while (left > 0) { left--; if (!process.stdout.write(chunk)) return process.stdout.once('drain', write); }
             console.log('${RESULT_MARKER} {"lines":500000}');
           };
           write();`,
        ],
      },
    });
    const { value, growth } = await retainedGrowth(() => executor.execute(t.ctx));
    expect(value).toEqual({ lines: 500_000 });
    const logged = t.lines('log');
    const loggedBytes = logged.reduce((sum, l) => sum + l.length, 0);
    expect(loggedBytes).toBeLessThanOrEqual(2 * MB);
    expect(logged.length).toBeGreaterThan(20_000);
    expect(t.lines('warn').join('\n')).toMatch(/\d+ output lines \(\d+ bytes\) were not logged/);
    // What stays is the logged budget (~2 MB of strings plus their records), not the 50 MB.
    expect(growth).toBeLessThan(12 * MB);
  });

  it('cuts a single 50 MB line without holding it in memory', async () => {
    const t = makeContext({
      config: {
        command: process.execPath,
        args: [
          '-e',
          `const chunk = 'z'.repeat(MB);
           let left = 50;
           const write = () => {
             while (left > 0) { left--; if (!process.stdout.write(chunk)) return process.stdout.once('drain', write); }
             process.stdout.write('\\n${RESULT_MARKER} "done"\\n');
           };
           write();`.replaceAll('MB', String(MB)),
        ],
      },
    });
    const { value, growth } = await retainedGrowth(() => executor.execute(t.ctx));
    expect(value).toBe('done');
    const lines = t.lines('log').filter((l) => !l.startsWith('started '));
    expect(lines).toHaveLength(1);
    const line = lines[0];
    expect(line).toMatch(/^z{8192}… \[52420608 more bytes\]$/);
    expect(growth).toBeLessThan(4 * MB);
  });
});
