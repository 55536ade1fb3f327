import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { withRowShape } from '../src/sqlite-driver.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('sqlite store: rows shaped from raw arrays', () => {
  it('gives the objects better-sqlite3 gives, and follows a statement that another connection altered the table under', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-shape-'));
    dirs.push(dir);
    const file = join(dir, 'shape.db');
    const db = new Database(file);
    db.exec(`create table t (a integer, b text, c text); insert into t values (1, 'x', '{"k":1}'), (2, null, 'y')`);
    const shaped = withRowShape(db.prepare('select * from t order by a'));
    expect(shaped.all([])).toEqual(db.prepare('select * from t order by a').all());
    expect(withRowShape(db.prepare('select a as "__proto__", b from t order by a')).all([])[0]).toEqual(
      Object.fromEntries([
        ['__proto__', 1],
        ['b', 'x'],
      ]),
    );
    // Another connection drops the middle column: SQLite re-prepares the cached statement and `*` now names a and c.
    const other = new Database(file);
    other.exec('alter table t drop column b');
    other.close();
    expect(shaped.all([])).toEqual([
      { a: 1, c: '{"k":1}' },
      { a: 2, c: 'y' },
    ]);
    db.close();
  });
});
