// A bench worker process: runs no-op tasks with one Baton scheduler until told
// to stop (SIGTERM), or, with --until-done <runId>, until that run finished;
// then prints its peak RSS in bytes.
import { createBaton, type Store } from '@baton/core';

const [kind, location, concurrencyArg, untilRun] = process.argv.slice(2);
const store: Store =
  kind === 'pg'
    ? await (await import('@baton/store-pg')).openPgStore({ connectionString: location!, poolSize: 10, warn: () => {} })
    : await (await import('@baton/store-sqlite')).openSqliteStore({ filename: location! });
const baton = createBaton({ store, concurrency: Number(concurrencyArg), logger: { warn() {}, error() {} } });
await baton.defineWorkflow({ name: 'noop', steps: [{ name: 's' }] }, { s: async () => null });
await baton.start();
console.log('ready');
const finish = async () => {
  await baton.stop();
  await store.close();
  console.log(`maxrss ${process.resourceUsage().maxRSS * 1024}`);
  process.exit(0);
};
process.on('SIGTERM', finish);
if (untilRun) {
  for (;;) {
    const run = await store.getRun(untilRun);
    if (run.status === 'success') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await finish();
}
