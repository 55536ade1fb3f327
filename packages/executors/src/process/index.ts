export * from './process-executor.js';
