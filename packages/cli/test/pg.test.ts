import { describe, it } from 'vitest';
import { openPgStore } from '@baton/store-pg';
import { cliCases } from './cases.js';
import { PG_URL, dropSchemas, pgAvailable } from './helpers.js';

const available = await pgAvailable();

if (available) {
  cliCases('PostgreSQL', async () => {
    const schema = `baton_cli_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    return {
      args: ['--db', PG_URL, '--schema', schema],
      pendingBeforeMigrate: true,
      open: () => openPgStore({ connectionString: PG_URL, schema }),
      cleanup: () => dropSchemas([schema]),
    };
  });
} else {
  describe('baton CLI on the PostgreSQL store', () => {
    it.skip('skipped: no PostgreSQL reachable (see the warning above)', () => {});
  });
}
