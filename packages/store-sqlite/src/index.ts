export { openSqliteStore, DEFAULT_SQLITE_FILE, type SqliteStoreOptions } from './open-sqlite-store.js';
export { sqliteDialect } from './sqlite-dialect.js';
