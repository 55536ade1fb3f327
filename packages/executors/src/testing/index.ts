export * from '../cloud-run/fake-server.js';
export * from '../llm/fake-server.js';
