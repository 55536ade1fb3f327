export { allTasks, eachStore, onCleanup, quiet, testBaton } from './harness.js';
export { sleep, until } from '@baton/test-kit';
