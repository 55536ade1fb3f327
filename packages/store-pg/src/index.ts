export { openPgStore, DEFAULT_PG_URL, type PgStoreOptions } from './open-pg-store.js';
export { pgDialect, TASKS_READY_CHANNEL } from './pg-dialect.js';
export { explainClaim } from './explain-claim.js';
