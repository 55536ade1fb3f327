export * from './cloud-run-executor.js';
