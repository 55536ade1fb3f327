export { pgKit, type PgKit } from './pg.js';
export { REPO_ROOT, spawnTs, type Child } from './spawn.js';
export { sleep, until } from './wait.js';
export { recordPreparedSql } from './sqlite.js';
