// PostgreSQL for store-pg's tests: the shared kit bound to BATON_PG_URL, else store-pg's default server.
import { pgKit } from '@baton/test-kit';
import { DEFAULT_PG_URL } from '@baton/store-pg';

const kit = pgKit(process.env.BATON_PG_URL ?? DEFAULT_PG_URL);
export const PG_URL = kit.url;
export const { schemaName, dropSchemas, query } = kit;
export const pgAvailable = () => kit.available();
