export { SqlStore, type SqlStoreOptions } from './sql-store.js';
export type { SqlDialect, ClaimRow, Db, LeaseOptions } from './dialect.js';
export type { CopyRows, JsonRows } from './json-rows.js';
export { rowShape } from './row-shape.js';
export { byClaimOrder } from './claim-order.js';
export { leaseReturns, leaseSet, leaseValues } from './lease.js';
export type * from './schema.js';
export { migrations } from './migrations.js';
