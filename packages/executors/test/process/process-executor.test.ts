import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutorError, ValidationError, type Json } from '@baton/core';
import { liveProcessGroups, processExecutor, RESULT_MARKER } from '../../src/process/index.js';
import { alive, groupMembers, makeContext, waitFor } from '../helpers.js';

/** A step config that runs a Node one-liner. */
const node = (script: string, extra: { [key: string]: Json } = {}) => ({ command: process.execPath, args: ['-e', script], ...extra });

const executor = processExecutor({ graceMs: 300, parentPollMs: 100 });

/**
 * Whether a SIGKILLed process is gone within a second. A dying process closes
 * its files (so the executor sees its pipes close and returns) before the
 * kernel makes it a zombie: right after `execute` settles it can still read as
 * running for a moment on a busy machine (CI saw it once). A process that was
 * never killed (the child loops forever, `sleep 60`) still fails this.
 */
const gone = (pid: number) => waitFor(() => !alive(pid), 1000, 10);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-process-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('process executor', () => {
  it('passes ids, params and env, reads stdin and returns the marked result', async () => {
    const t = makeContext({
      config: node(
        `let input = '';
         process.stdin.on('data', (d) => (input += d)).on('end', () => {
           const env = process.env;
           console.log('hello from task');
           console.log('${RESULT_MARKER} ' + JSON.stringify({
             stdin: JSON.parse(input), params: JSON.parse(env.BATON_PARAMS), index: env.TASK_INDEX, count: env.TASK_COUNT,
             run: env.BATON_RUN_ID, task: env.BATON_TASK_ID, attempt: env.BATON_ATTEMPT, mode: env.MODE, token: env.TOKEN,
           }));
         });`,
        { env: { MODE: 'full' }, envFromConfig: { TOKEN: 'secret.token' } },
      ),
      params: { day: '2024-01-30', n: 3 },
      taskIndex: 2,
      taskCount: 5,
      attempt: 2,
      configStore: { 'secret.token': 's3cr3t' },
    });
    const output = await executor.execute(t.ctx);
    expect(output).toEqual({
      stdin: { day: '2024-01-30', n: 3 },
      params: { day: '2024-01-30', n: 3 },
      index: '2',
      count: '5',
      run: t.ctx.run.id,
      task: t.ctx.task.id,
      attempt: '2',
      mode: 'full',
      token: 's3cr3t',
    });
    expect(t.lines('log')).toContain('hello from task');
    expect(t.logs.some((l) => l.content.includes(RESULT_MARKER))).toBe(false);
    expect(t.logs.some((l) => l.content.includes('s3cr3t'))).toBe(false);
    expect(t.started).toHaveLength(1);
    expect(Number(t.started[0])).toBeGreaterThan(0);
  });

  it('streams lines into the log while the process is still running', async () => {
    const t = makeContext({ config: node(`console.log('first'); console.error('warned'); setTimeout(() => {}, 30000);`) });
    let settled = false;
    const running = executor.execute(t.ctx).finally(() => (settled = true));
    running.catch(() => {});
    expect(await waitFor(() => t.lines('log').includes('first') && t.lines('error').includes('warned'))).toBe(true);
    expect(settled).toBe(false);
    t.abort(new Error('test is done'));
    await expect(running).rejects.toThrow('test is done');
  });

  it('fails a non-zero exit with the code and the tail of stderr', async () => {
    const t = makeContext({
      config: node(
        `for (let i = 0; i < 500; i++) console.error('line ' + i + ' ' + 'x'.repeat(20)); process.exitCode = 3; // exitCode, not exit(): exit() can drop piped stderr not yet flushed`,
      ),
    });
    const error = await executor.execute(t.ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExecutorError);
    expect((error as Error).message).toMatch(/exited with code 3/);
    expect((error as Error).message).toContain('line 499');
    expect((error as Error).message).not.toContain('line 0 ');
    expect((error as Error).message.length).toBeLessThan(2 * 1024 + 200);
    expect(t.lines('error')).toHaveLength(500);
  });

  it('reports a signal death and a malformed result line', async () => {
    const killed = makeContext({ config: node(`process.kill(process.pid, 'SIGKILL')`) });
    await expect(executor.execute(killed.ctx)).rejects.toThrow(/killed by SIGKILL/);
    const malformed = makeContext({ config: node(`console.log('${RESULT_MARKER} {not json')`) });
    await expect(executor.execute(malformed.ctx)).rejects.toThrow(/not valid JSON/);
  });

  it('returns nothing when no result line is printed, and the last result line wins', async () => {
    const none = makeContext({ config: node(`console.log('just logs')`) });
    expect(await executor.execute(none.ctx)).toBeUndefined();
    const two = makeContext({ config: node(`console.log('${RESULT_MARKER} 1'); console.log('${RESULT_MARKER} {"final":true}')`) });
    expect(await executor.execute(two.ctx)).toEqual({ final: true });
  });

  it('fails clearly when the command or the working directory does not exist', async () => {
    const missing = makeContext({ config: { command: 'baton-no-such-command-xyz' } });
    await expect(executor.execute(missing.ctx)).rejects.toThrow(/could not start baton-no-such-command-xyz: .*ENOENT/);
    const noDir = makeContext({ config: { command: 'true', cwd: join(dir, 'nope') } });
    await expect(executor.execute(noDir.ctx)).rejects.toThrow(/working directory .*nope does not exist/);
  });

  it("runs Ork's jobName scripts from scriptsDir, in the task's workspace", async () => {
    const script = join(dir, 'example-task.sh');
    await writeFile(script, '#!/bin/sh\necho "task $TASK_INDEX of $TASK_COUNT in $(pwd)"\n');
    await chmod(script, 0o755);
    const work = await mkdtemp(join(dir, 'ws-'));
    const jobs = processExecutor({ scriptsDir: dir });
    const t = makeContext({ config: { jobName: 'example-task.sh' }, taskIndex: 1, taskCount: 5, workspace: work });
    await jobs.execute(t.ctx);
    expect(t.lines('log')).toContain(`task 1 of 5 in ${work}`);
  });

  it('refuses a jobName that leaves scriptsDir, at definition and at run time, and runs nothing outside it', async () => {
    const jobsDir = await mkdtemp(join(dir, 'jobs-'));
    const outside = join(dir, 'outside.sh');
    const marker = join(dir, 'outside-ran');
    await writeFile(outside, `#!/bin/sh\ntouch ${marker}\n`);
    await chmod(outside, 0o755);
    const jobs = processExecutor({ scriptsDir: jobsDir });
    for (const jobName of ['../outside.sh', `sub/../../outside.sh`, outside, '', 'a//b.sh']) {
      expect(() => jobs.validateConfig!({ jobName }, {} as never), jobName).toThrow(
        jobName ? /jobName: must be a script path inside scriptsDir/ : /jobName:/,
      );
      const t = makeContext({ config: { jobName } });
      await expect(jobs.execute(t.ctx), jobName).rejects.toThrow(/jobName/);
    }
    const { existsSync } = await import('node:fs');
    expect(existsSync(marker)).toBe(false);
    expect(() => jobs.validateConfig!({ jobName: 'nested/ok.sh' }, {} as never)).not.toThrow();
  });

  it('kills what a successful command left running in the background', async () => {
    const t = makeContext({ config: { command: 'sleep 60 & echo "bg $!"', shell: true } });
    await executor.execute(t.ctx);
    const pid = Number(/bg (\d+)/.exec(t.lines('log').join('\n'))![1]);
    expect(await gone(pid)).toBe(true);
  });

  it('aborts by ending the whole group, SIGKILLing a child that ignores SIGTERM', async () => {
    const t = makeContext({
      config: node(
        `const { spawn } = require('node:child_process');
         const grandchild = spawn('sleep', ['60'], { stdio: 'ignore' });
         process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
         console.log('pids ' + process.pid + ' ' + grandchild.pid);
         setInterval(() => {}, 1000);`,
      ),
    });
    const running = executor.execute(t.ctx);
    running.catch(() => {});
    expect(await waitFor(() => t.lines('log').some((l) => l.startsWith('pids ')))).toBe(true);
    const [pid, grandchild] = t
      .lines('log')
      .find((l) => l.startsWith('pids '))!
      .split(' ')
      .slice(1)
      .map(Number) as [number, number];
    const group = Number(t.started[0]);
    t.abort(new Error('cancelled by test'));
    await expect(running).rejects.toThrow('cancelled by test');
    expect(t.lines('log')).toContain('ignoring SIGTERM');
    expect(await gone(pid)).toBe(true);
    expect(await gone(grandchild)).toBe(true);
    expect(groupMembers(group)).toEqual([]);
    expect(liveProcessGroups()).toBe(0);
  });

  it('validates step config, naming the bad field', () => {
    const check = (config: { [key: string]: Json }) => () => executor.validateConfig!(config, makeContext().ctx.step);
    expect(check({})).toThrow(ValidationError);
    expect(check({})).toThrow(/command: give command or jobName/);
    expect(check({ command: 'ls', args: 'x' })).toThrow(/args: must be an array/);
    expect(check({ command: 'ls', env: { A: 1 } })).toThrow(/env\.A: must be a string/);
    expect(check({ command: 'ls', env: { 'BAD-NAME': 'x' } })).toThrow(/env\.BAD-NAME/);
    expect(check({ jobName: 'a.sh', command: 'ls' })).toThrow(/jobName/);
    expect(check({ command: 'ls', colour: 'blue' })).toThrow(/colour: unknown field/);
    expect(check({ command: 'ls', args: ['-l'], cwd: 'x', graceMs: 10 })).not.toThrow();
  });
});
