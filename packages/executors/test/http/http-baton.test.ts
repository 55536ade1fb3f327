import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { httpExecutor } from '../../src/http/index.js';
import { logsOf, startBaton, tasksOf } from '../baton.js';

describe('http executor under the scheduler', () => {
  it('POSTs each task, reads the secret header from the config store, keeps it out of logs, and retries a 503', async () => {
    let calls = 0;
    const auth: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d));
      req.on('end', () => {
        calls++;
        auth.push(req.headers.authorization);
        const body = JSON.parse(raw) as { params: { city: string }; attempt: number; inputs: { unit: string } };
        // The first request fails once: the scheduler's retry sends it again.
        if (calls === 1) return res.writeHead(503).end('warming up');
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ city: body.params.city, unit: body.inputs.unit, attempt: body.attempt }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { baton, store } = await startBaton([httpExecutor()]);
      await store.setConfig({ key: 'weather.auth', value: 'Bearer top-secret', isSecret: true });
      await baton.defineWorkflow({
        name: 'weather',
        retry: { maxAttempts: 2, initialDelayMs: 10, jitter: 0 },
        concurrency: 1,
        steps: [
          {
            name: 'fetch',
            executor: 'http',
            paramsList: [{ city: 'Oslo' }, { city: 'Lima' }],
            config: {
              url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/weather`,
              headersFromConfig: { Authorization: 'weather.auth' },
            },
          },
        ],
      });
      const retried: string[] = [];
      baton.on('task:retrying', ({ error }) => retried.push(error));
      const run = await baton.trigger('weather', { inputs: { unit: 'C' } });
      expect((await baton.waitForRun(run.id, { timeoutMs: 20_000 })).status).toBe('success');
      const tasks = await tasksOf(store, run.id);
      expect(tasks.map((t) => t.output)).toEqual([
        { city: 'Oslo', unit: 'C', attempt: 2 },
        { city: 'Lima', unit: 'C', attempt: 1 },
      ]);
      expect(auth).toEqual(['Bearer top-secret', 'Bearer top-secret', 'Bearer top-secret']);
      expect(retried).toHaveLength(1);
      expect(retried[0]).toMatch(/^ExecutorError: http: POST http:\/\/127\.0\.0\.1:\d+\/weather answered 503: warming up/);
      const everything = JSON.stringify([await logsOf(store, run.id), tasks, retried]);
      expect(everything).not.toContain('top-secret');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
