import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CorruptDataError, SchemaVersionError, ValidationError } from '@baton/core';
import { openSqliteStore } from '@baton/store-sqlite';
import { spawnTs } from '@baton/test-kit';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-sqlite-open-'));
  dirs.push(dir);
  return dir;
}

describe('store-sqlite: opening fails with typed errors naming the file or option', () => {
  it('a file that is not a database: CorruptDataError with the path, and the file untouched', async () => {
    const filename = join(tempDir(), 'notes.db');
    writeFileSync(filename, 'these are my notes, not a database '.repeat(200));
    const before = readFileSync(filename);
    const error = await openSqliteStore({ filename }).catch((e) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect(error.message).toContain(resolve(filename));
    expect(error.message).toMatch(/not a SQLite database/);
    expect(readFileSync(filename)).toEqual(before);
  });

  it('a directory as filename, and a path under a regular file: ValidationError on filename', async () => {
    const dir = tempDir();
    const asDir = await openSqliteStore({ filename: dir }).catch((e) => e);
    expect(asDir).toBeInstanceOf(ValidationError);
    expect(asDir).toMatchObject({ field: 'filename' });
    expect(asDir.message).toContain(dir);
    expect(asDir.message).toMatch(/is a directory/);
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'x');
    for (const filename of ['/dev/null/baton.db', join(file, 'sub', 'baton.db')]) {
      const under = await openSqliteStore({ filename }).catch((e) => e);
      expect(under, filename).toBeInstanceOf(ValidationError);
      expect(under).toMatchObject({ field: 'filename' });
      expect(under.message).toContain(filename);
      expect(under.message).toMatch(/not a directory/);
    }
  });

  it('bad options: ValidationError naming the option', async () => {
    const filename = join(tempDir(), 'x.db');
    const cases: [unknown, string][] = [
      [{ filename: 42 }, 'filename'],
      [{ filename: '' }, 'filename'],
      [{ filename, busyTimeoutMs: -1 }, 'busyTimeoutMs'],
      [{ filename, busyTimeoutMs: 1.5 }, 'busyTimeoutMs'],
      [{ filename, migrate: 'yes' }, 'migrate'],
      [{ filename, fileName: 'typo.db' }, 'fileName'],
    ];
    for (const [options, field] of cases) {
      const error = await openSqliteStore(options as never).catch((e) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect(error.field).toBe(field);
    }
  });

  it('a database a newer Baton migrated: SchemaVersionError naming the file and the unknown migration; nothing changed', async () => {
    const filename = join(tempDir(), 'newer.db');
    const store = await openSqliteStore({ filename });
    await store.createWorkflow({ name: 'kept', steps: [{ name: 's' }] });
    await store.close();
    const raw = new Database(filename);
    raw.prepare("insert into baton_migrations (name, timestamp) values ('999_from_the_future', '2030-01-01T00:00:00.000Z')").run();
    raw.close();
    const error = await openSqliteStore({ filename }).catch((e) => e);
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect(error.message).toContain(resolve(filename));
    expect(error.unknown).toEqual(['999_from_the_future']);
    const check = new Database(filename, { readonly: true });
    expect(check.prepare('select name from baton_workflows').all()).toEqual([{ name: 'kept' }]);
    check.close();
    const without = await openSqliteStore({ filename, migrate: false });
    await expect(without.listWorkflows()).rejects.toBeInstanceOf(SchemaVersionError);
    await without.close();
  });

  it('migrate: false on an unmigrated file: operations fail with SchemaVersionError until migrate()', async () => {
    const filename = join(tempDir(), 'fresh.db');
    const store = await openSqliteStore({ filename, migrate: false });
    const error = await store.createWorkflow({ name: 'w', steps: [{ name: 's' }] }).catch((e) => e);
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect(error.message).toContain(resolve(filename));
    expect(error.pending[0]).toBe('001_initial'); // and every later migration
    await store.migrate();
    expect((await store.createWorkflow({ name: 'w', steps: [{ name: 's' }] })).name).toBe('w');
    await store.close();
    const again = await openSqliteStore({ filename, migrate: false });
    expect((await again.listWorkflows()).items).toHaveLength(1);
    await again.close();
  });
});

describe('store-sqlite: processes opening a fresh file at once', () => {
  it('every one of 4 processes opens and writes, 5 fresh files in a row: the first migration does not race', async () => {
    const opener = fileURLToPath(new URL('./fixtures/opener.ts', import.meta.url));
    const dir = tempDir();
    const ROUNDS = 5;
    const children = Array.from({ length: 4 }, (_, i) => spawnTs(opener, [dir, String(ROUNDS), String(i)]));
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(children.map((c) => c.line((l) => l === `ready ${round}`)));
      mkdirSync(join(dir, `go-${round}`)); // all four poll for it: they open within a millisecond or two of each other
    }
    await Promise.all(children.map((c) => c.exited));
    const results = children.flatMap((c) => c.lines.filter((l) => l && !l.startsWith('ready')));
    expect(results.filter((r) => !r.startsWith('ok'))).toEqual([]);
    expect(results).toHaveLength(4 * ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const check = new Database(join(dir, `fresh-${round}.db`), { readonly: true });
      expect(check.prepare('select count(*) as n from baton_workflows').get()).toEqual({ n: 4 });
      check.close();
    }
  });
});
