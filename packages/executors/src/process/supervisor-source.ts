/**
 * The supervisor: a tiny Node script, run with `node -e`, that the process
 * executor spawns as the leader of a fresh process group (`detached: true`).
 * It receives the command, arguments, cwd and environment as its first IPC
 * message (no argv or env size limits, no NODE_OPTIONS of the worker), spawns
 * the command inside its group with inherited stdio (so output flows straight
 * to the executor, never through this script) and:
 *
 * - reports `{type:'started', pid}`, `{type:'exit', code, signal}` or
 *   `{type:'error', message}` over the IPC channel;
 * - on SIGTERM (from the executor or a human `kill <pid>`) sends SIGTERM to its
 *   whole group once, and SIGKILL to the group after the grace period;
 * - when its parent dies (IPC channel closed, or its parent pid changed: the
 *   parent was SIGKILLed and ran no handlers) does the same, so no task
 *   outlives its worker;
 * - once the command has exited, SIGKILLs its own group, which takes any
 *   background processes the command left behind (and the supervisor itself).
 *
 * Kept as a string so that it runs the same from TypeScript sources and from
 * the built package, without a file to locate at run time.
 */
// biome-ignore lint/complexity/noUselessStringRaw: raw, so a `\n` written in the supervisor's code stays two characters there
export const SUPERVISOR_SOURCE = String.raw`
'use strict';
const { spawn } = require('node:child_process');
const parentPid = process.ppid;
let graceMs = 5000;
let child = null;
let stopping = false;
const killGroup = (signal) => { try { process.kill(-process.pid, signal); } catch {} };
const send = (message, then) => {
  if (!process.connected) return then();
  try { process.send(message, () => then()); } catch { then(); }
};
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (!child) process.exit(0);
  killGroup('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), graceMs);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', stop);
process.on('disconnect', stop);
const poll = setInterval(() => { if (process.ppid !== parentPid) stop(); }, 1000);
process.once('message', (spec) => {
  graceMs = spec.graceMs;
  clearInterval(poll);
  setInterval(() => { if (process.ppid !== parentPid) stop(); }, spec.pollMs);
  child = spawn(spec.command, spec.args, { stdio: 'inherit', cwd: spec.cwd, shell: spec.shell, env: spec.env });
  let ended = false;
  const end = (message) => { if (!ended) { ended = true; send(message, () => killGroup('SIGKILL')); } };
  child.on('spawn', () => send({ type: 'started', pid: child.pid }, () => {}));
  child.on('error', (error) => end({ type: 'error', message: error.message }));
  child.on('exit', (code, signal) => end({ type: 'exit', code, signal }));
});
`;

/** The first IPC message a supervisor receives. */
export interface SupervisorSpec {
  command: string;
  args: string[];
  cwd: string;
  shell: boolean;
  env: Record<string, string>;
  graceMs: number;
  /** How often the supervisor checks that its parent is alive. */
  pollMs: number;
}

/** What a supervisor reports. */
export type SupervisorMessage =
  | { type: 'started'; pid: number }
  | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'error'; message: string };
