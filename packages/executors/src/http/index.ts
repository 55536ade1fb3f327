export * from './http-executor.js';
