export { SqlStore, type SqlStoreOptions } from './sql-store.js';
export type { SqlDialect, ClaimRow, Db } from './dialect.js';
export type * from './schema.js';
export { migrations } from './migrations.js';
export { leaseColumns } from './ops/limits.js';
