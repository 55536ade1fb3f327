export { openFileStore, DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS, type FileStoreOptions } from './open-file-store.js';
export { LockTimeoutError } from './file-lock.js';
