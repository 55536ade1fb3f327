import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export { spawnTs, type Child } from '@baton/test-kit';
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A fresh folder under the system temp dir; remove it with `removeDir`. */
export const makeDir = () => mkdtemp(join(tmpdir(), 'baton-store-file-'));
export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });
