export * from './llm-executor.js';
