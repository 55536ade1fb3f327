export { main } from './main.js';
export { buildProgram } from './program.js';
export { parseLocation, openStore, DEFAULT_DB, type StoreLocation } from './store.js';
export { EXIT } from './errors.js';
