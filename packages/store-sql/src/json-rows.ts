/**
 * Rows to insert from one JSON document (`SqlDialect.insertJsonRows`), with
 * the columns that hold one value in every row taken out and sent once.
 *
 * Most of a triggered row is the same in every row of a batch: a
 * `triggerMany` of single-task runs varies only in ids, inputs and params
 * (5 of a task row's 31 columns). Each key of a JSON row costs the database
 * its parsing and the bench process its writing: PostgreSQL, `triggerMany` of
 * 20,000 single-task runs 905–974 → 577–715 ms and a 20,000-task fan-out
 * 507–543 → 328–336 ms (bench/HISTORY.md).
 */
export interface JsonRows {
  /** Every column written, in the table's insert order. */
  columns: string[];
  /** Those holding JSON values; the others hold strings, numbers or null. */
  jsonColumns: string[];
  /** Columns with the same value in every row, with that value (null included). */
  constant: Record<string, unknown>;
  /** The other columns' values: a JSON array of one object a row, null values left out (a missing key reads as NULL). */
  varying: string;
}

/** A second table written from the same rows: its columns, each the inserted row's column it copies. */
export interface CopyRows {
  table: string;
  columns: Record<string, string>;
}

/** Splits `rows` (plain objects, JSON columns as values, not encoded) into constant and varying columns. */
export function jsonRows(rows: object[], columns: string[], jsonColumns: string[]): JsonRows {
  const table = rows as Record<string, unknown>[];
  const constant: Record<string, unknown> = {};
  const varying: string[] = [];
  for (const column of columns) {
    if (sameInEveryRow(table, column)) constant[column] = table[0]![column] ?? null;
    else varying.push(column);
  }
  return {
    columns,
    jsonColumns,
    constant,
    varying: JSON.stringify(
      table.map((row) => {
        const kept: Record<string, unknown> = {};
        for (const column of varying) {
          const value = row[column];
          if (value !== null && value !== undefined) kept[column] = value;
        }
        return kept;
      }),
    ),
  };
}

/** JSON values compare by their text; a varying column usually differs by its second row. */
function sameInEveryRow(rows: Record<string, unknown>[], column: string): boolean {
  const first = rows[0]![column] ?? null;
  if (first === null || typeof first !== 'object') return rows.every((row) => (row[column] ?? null) === first);
  const text = JSON.stringify(first);
  return rows.every((row) => {
    const value = row[column];
    return value === first || (value !== null && typeof value === 'object' && JSON.stringify(value) === text);
  });
}
