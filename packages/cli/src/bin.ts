import { main } from './main.js';

const code = await main(process.argv);
process.exitCode = code;
// Everything is closed by now; a connection that lingers (a pool a driver keeps) must not
// hold the shell. Unref'd: fires only if something else still keeps the process alive.
setTimeout(() => process.exit(code), 2000).unref();
