/**
 * Rows as objects built in JavaScript from a driver's arrays, by one object
 * literal compiled per list of column names. A literal of fixed shape is what
 * V8 allocates fastest; drivers that build row objects themselves do it one
 * property at a time (better-sqlite3 through V8's C++ API: ~100,000
 * instructions a 31-column claim row, callgrind; node-pg by copying an empty
 * row and storing each column by its name). Same objects as theirs: named after
 * the result's columns, a later duplicate name winning.
 */
export function rowShape(names: readonly string[]): (row: unknown[]) => object {
  const key = names.join('\0');
  let shape = shapes.get(key);
  if (!shape) {
    // A name the literal cannot carry as a plain key: build the object key by key.
    shape = names.includes('__proto__')
      ? (row) => Object.fromEntries(names.map((n, i) => [n, row[i]]))
      : (new Function('r', `return { ${names.map((n, i) => `${JSON.stringify(n)}: r[${i}]`).join(', ')} };`) as (row: unknown[]) => object);
    // Statements are few and repeat; a bound keeps a host issuing ad-hoc ones from growing it forever.
    if (shapes.size >= 500) shapes.clear();
    shapes.set(key, shape);
  }
  return shape;
}

const shapes = new Map<string, (row: unknown[]) => object>();
