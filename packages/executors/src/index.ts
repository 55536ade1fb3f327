export * from './process/index.js';
export * from './http/index.js';
export * from './cloud-run/index.js';
export * from './llm/index.js';
