/** better-sqlite3's Database class, as far as this needs it (test-kit does not depend on the driver). */
interface PreparingDatabase {
  prototype: { prepare(source: string): unknown };
}

/**
 * Records every SQL text a better-sqlite3 database prepares from now on, for
 * tests that check query plans: the stores cache prepared statements, so the
 * texts are seen once each. `stop()` puts `prepare` back and returns what was
 * recorded; call it in `afterAll` too, in case a test failed first.
 */
export function recordPreparedSql(Database: PreparingDatabase): { statements: Set<string>; stop: () => string[] } {
  const statements = new Set<string>();
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (this: unknown, source: string) {
    statements.add(source);
    return prepare.call(this, source);
  };
  return {
    statements,
    stop: () => {
      Database.prototype.prepare = prepare;
      return [...statements];
    },
  };
}
