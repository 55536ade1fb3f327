import { join } from 'node:path';
import { openSqliteStore } from '@baton/store-sqlite';
import { cliCases } from './cases.js';
import { makeDir, removeDir } from './helpers.js';

cliCases('SQLite', async () => {
  const dir = await makeDir();
  const filename = join(dir, 'ops', 'baton.db');
  return {
    args: ['--db', filename],
    pendingBeforeMigrate: true,
    open: () => openSqliteStore({ filename }),
    cleanup: () => removeDir(dir),
  };
});
