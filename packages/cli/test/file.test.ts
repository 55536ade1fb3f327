import { join } from 'node:path';
import { openFileStore } from '@baton/store-file';
import { cliCases } from './cases.js';
import { makeDir, removeDir } from './helpers.js';

// Through BATON_DB rather than --db: the environment variable is how most operators will set it.
cliCases('file', async () => {
  const dir = await makeDir();
  const directory = join(dir, 'store');
  return {
    args: [],
    env: { BATON_DB: `file:${directory}` },
    pendingBeforeMigrate: false,
    open: () => openFileStore({ directory }),
    cleanup: () => removeDir(dir),
  };
});
