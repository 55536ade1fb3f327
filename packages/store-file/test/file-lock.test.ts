import { spawnSync } from 'node:child_process';
import { mkdir, readlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError } from '@baton/core';
import { LockTimeoutError, openFileStore } from '@baton/store-file';
import { fixture, makeDir, removeDir, spawnTs, type Child } from './helpers.js';

let dir = '';
let holder: Child | null = null;
afterEach(async () => {
  holder?.process.kill('SIGKILL');
  holder = null;
  await removeDir(dir);
});

const pidNamespace = () => readlink('/proc/self/ns/pid').catch(() => null);

describe('the folder lock', () => {
  it('is taken over at once from a process of this host that died holding it', async () => {
    dir = await makeDir();
    await (await openFileStore({ directory: dir })).close();
    // A pid that surely ran and surely ended.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await mkdir(join(dir, 'store.lock'));
    await writeFile(
      join(dir, 'store.lock', 'owner.json'),
      JSON.stringify({ pid: dead, host: hostname(), pidNamespace: await pidNamespace(), token: 't' }),
    );
    // Staleness alone would take a minute; the timeout is far shorter, so only the dead-owner check can let this open.
    const store = await openFileStore({ directory: dir, lockStaleMs: 60_000, lockTimeoutMs: 3_000 });
    await store.setConfig({ key: 'after', value: true });
    expect((await store.getConfig('after')).value).toBe(true);
    await store.close();
  });

  it('makes others wait while a live process holds it, failing with LockTimeoutError, and frees up when that process is killed', async () => {
    dir = await makeDir();
    await (await openFileStore({ directory: dir })).close();
    holder = spawnTs(fixture('lock-holder.ts'), [dir]);
    await holder.line((l) => l === 'holding');

    const error = await openFileStore({ directory: dir, lockStaleMs: 60_000, lockTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as LockTimeoutError).code).toBe('TIMEOUT');
    expect((error as LockTimeoutError).lockPath).toBe(join(dir, 'store.lock'));

    holder.process.kill('SIGKILL');
    await holder.exited;
    const store = await openFileStore({ directory: dir, lockStaleMs: 60_000, lockTimeoutMs: 3_000 });
    await store.setConfig({ key: 'free', value: 1 });
    await store.close();
  });

  it('is shared in line by two handles of one process', async () => {
    dir = await makeDir();
    const a = await openFileStore({ directory: dir });
    const b = await openFileStore({ directory: dir });
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).setConfig({ key: `k${i}`, value: i })));
    expect((await a.listConfig()).length).toBe(10);
    expect((await b.listConfig()).length).toBe(10);
    await a.close();
    await b.close();
  });
});
