/**
 * Ork rebuilt on Baton: one workflow step fanned out into N tasks, run by the
 * process executor (a shell script per task) and by the Cloud Run executor
 * (against a local stand-in of the Cloud Run Admin API unless CLOUD_RUN_URL
 * is given). Prints each task's transitions and the runs' summary.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createBaton, type Run, type Store, type TaskStatus } from '@baton/core';
import { cloudRunExecutor, processExecutor } from '@baton/executors';
import { startFakeCloudRun } from '@baton/executors/testing';
import { openSqliteStore } from '@baton/store-sqlite';

export interface FanoutResult {
  runs: Run[];
  /** Every status each task was seen in, in order, per executor. */
  transitions: Record<string, Record<number, TaskStatus[]>>;
}

const scriptsDir = fileURLToPath(new URL('../scripts/', import.meta.url));

export async function runFanout({
  store,
  shards = 4,
  print = console.log,
}: {
  store: Store;
  shards?: number;
  print?: (line: string) => void;
}): Promise<FanoutResult> {
  const fake = process.env.CLOUD_RUN_URL ? undefined : await startFakeCloudRun({ jobs: { shard: { durationMs: 300 } } });
  const baton = createBaton({
    store,
    concurrency: 8,
    pollIntervalMs: 50,
    executors: [
      processExecutor({ scriptsDir }),
      cloudRunExecutor({
        endpoint: process.env.CLOUD_RUN_URL ?? fake!.url,
        tokenProvider: async () => process.env.CLOUD_RUN_TOKEN ?? 'local',
        pollIntervalMs: 100,
      }),
    ],
  });
  const transitions: FanoutResult['transitions'] = {};
  try {
    await baton.defineWorkflow({
      name: 'fanout-process',
      description: "Ork's example-process: task_count shards of a script",
      steps: [{ name: 'shard', executor: 'process', config: { jobName: 'shard.sh' }, taskCount: shards }],
    });
    await baton.defineWorkflow({
      name: 'fanout-cloudrun',
      description: 'The same batch as a Cloud Run job per shard',
      steps: [{ name: 'shard', executor: 'cloud-run', config: { project: 'local', region: 'local', job: 'shard' }, taskCount: shards }],
    });
    await baton.start();
    const runs: Run[] = [];
    for (const name of ['fanout-process', 'fanout-cloudrun']) {
      print(`\n== ${name}: ${shards} tasks`);
      const run = await baton.trigger(name, { triggeredBy: 'manual' });
      const seen: Record<number, TaskStatus[]> = (transitions[name] = {});
      // Poll the store the way an operator's dashboard would and print each change.
      for (;;) {
        const tasks = (await store.listTasks({ runId: run.id, limit: 1000 })).items;
        for (const t of tasks) {
          const history = (seen[t.taskIndex] ??= []);
          if (history.at(-1) !== t.status) {
            history.push(t.status);
            print(`  task ${t.taskIndex}: ${t.status}${t.executionName ? ` (${t.executionName})` : ''}`);
          }
        }
        const current = await store.getRun(run.id);
        if (['success', 'failed', 'timeout', 'cancelled'].includes(current.status)) {
          runs.push(current);
          print(`  run ${current.status} in ${current.durationMs} ms`);
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    print('\nSummary');
    for (const run of runs)
      print(`  ${run.workflowName.padEnd(16)} ${run.status.padEnd(8)} ${run.tasksFinished}/${run.tasksTotal} tasks  ${run.durationMs} ms`);
    return { runs, transitions };
  } finally {
    await baton.stop();
    await fake?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const store = await openSqliteStore({ filename: process.env.BATON_DB ?? '.baton/batch-fanout.db' });
  const { runs } = await runFanout({ store, shards: Number(process.env.SHARDS ?? 4) });
  await store.close();
  process.exitCode = runs.every((r) => r.status === 'success') ? 0 : 1;
}
