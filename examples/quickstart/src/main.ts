/**
 * Baton's main job in one file: a workflow that fans out into parallel tasks,
 * retries a flaky one, then aggregates in a dependent step, on the embedded
 * SQLite default. Run it with `pnpm demo` from the repository root.
 */
import { createBaton, type Run } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.DEMO_RUNS ?? 3);
const FANOUT = Number(process.env.DEMO_FANOUT ?? 20);
// Next to this example whatever the working directory (`pnpm demo` runs it from examples/quickstart).
const filename = process.env.BATON_DB ?? fileURLToPath(new URL('../.baton/baton.db', import.meta.url));

const store = await openSqliteStore({ filename });
const baton = createBaton({ store, concurrency: 8, leaseMs: 5_000 });

await baton.defineWorkflow(
  {
    name: 'quickstart-report',
    description: 'Fan out over shards, retry a flaky shard, aggregate the results.',
    retry: { maxAttempts: 3, initialDelayMs: 100, backoffFactor: 2 },
    steps: [
      { name: 'measure', taskCount: FANOUT, params: { unit: 'ms' } },
      { name: 'aggregate', dependsOn: ['measure'] },
    ],
  },
  {
    measure: async (ctx) => {
      // Shard 3 fails its first attempt so the demo shows a retry.
      if (ctx.taskIndex === 3 && ctx.attempt === 1) throw new Error('shard 3 is flaky on its first attempt');
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      const value = (ctx.taskIndex + 1) * Number(ctx.inputs.scale ?? 1);
      ctx.log(`shard ${ctx.taskIndex}/${ctx.taskCount} measured ${value}`);
      return { shard: ctx.taskIndex, value };
    },
    aggregate: async (ctx) => {
      const shards = ctx.upstream.measure as { shard: number; value: number }[];
      const total = shards.reduce((sum, s) => sum + s.value, 0);
      ctx.info(`aggregating ${shards.length} shards`);
      ctx.json({ total, shards: shards.length });
      ctx.markdown(`**Total:** ${total}`);
      ctx.warn('this is what a warning looks like');
      ctx.danger('and a danger box');
      ctx.error(new Error('an error log (the task still succeeds)'));
      ctx.success(`report ready: ${total}`);
      return { total };
    },
  },
);

let tasksDone = 0;
let retries = 0;
const totalTasks = RUNS * (FANOUT + 1);
const bar = (n: number) => `[${'#'.repeat(Math.round((n / totalTasks) * 30)).padEnd(30, '.')}]`;
const tty = process.stdout.isTTY;
baton.on('task:finished', () => {
  tasksDone++;
  const line = `${bar(tasksDone)} ${tasksDone}/${totalTasks} tasks, ${retries} retried`;
  // On a terminal the bar redraws in place; in a log it prints every tenth of the way.
  if (tty) process.stdout.write(`\r${line}`);
  else if (tasksDone % Math.max(1, Math.round(totalTasks / 10)) === 0 || tasksDone === totalTasks) console.log(line);
});
baton.on('task:retrying', () => retries++);

console.log(`Baton quickstart: ${RUNS} runs × (${FANOUT} fan-out tasks + 1 aggregate) on SQLite at ${filename}`);
const started = performance.now();
await baton.start();
const triggered = await Promise.all(
  Array.from({ length: RUNS }, (_, i) => baton.trigger('quickstart-report', { inputs: { scale: i + 1 } })),
);
const runs: Run[] = await Promise.all(triggered.map((r) => baton.waitForRun(r.id, { timeoutMs: 120_000 })));
await baton.stop();
const wallMs = performance.now() - started;
process.stdout.write(tty ? '\n\n' : '\n');

console.log('Summary');
console.log('run                                   status    tasks  failed  duration');
for (const run of runs) {
  console.log(
    `${run.id}  ${run.status.padEnd(8)}  ${String(run.tasksFinished).padStart(5)}  ${String(run.tasksFailed).padStart(6)}  ${run.durationMs} ms`,
  );
}
const logs = await store.listLogs(runs[0]!.id, { limit: 1000 });
const byType = new Map<string, number>();
for (const log of logs.items) byType.set(log.type, (byType.get(log.type) ?? 0) + 1);
console.log(`\nLogs of the first run by type: ${[...byType].map(([t, n]) => `${t}=${n}`).join(', ')}`);
console.log(
  `${tasksDone} tasks in ${(wallMs / 1000).toFixed(2)} s, ${retries} retried; all runs ${runs.every((r) => r.status === 'success') ? 'succeeded' : 'did NOT all succeed'}.`,
);
console.log(
  `\nSee these runs in the dashboard: run \`pnpm dashboard\` from the repository root, then open http://127.0.0.1:${process.env.PORT ?? 4000}/`,
);
await store.close();
process.exitCode = runs.every((r) => r.status === 'success') ? 0 : 1;
