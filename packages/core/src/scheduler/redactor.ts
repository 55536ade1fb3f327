import type { Json } from '../models.js';
import type { Store } from '../store.js';

export const REDACTED = '[redacted]';

/** Shorter leaves are not redacted: replacing "1" or "on" everywhere would destroy logs and protect nothing. */
const MIN_SECRET_LENGTH = 4;

/**
 * The one place secrets are blanked out: logs of every type, task and run
 * errors, events and tool audit records all pass through it.
 *
 * A secret config value of any JSON type is taken apart into its leaves: every
 * string, number and boolean inside it (object fields, array items, nested)
 * is a secret of its own, in its plain text and in its JSON-escaped form (how
 * it appears inside a `json` log), and so is the value's whole JSON text. In
 * text every occurrence is replaced; in a JSON value (tool arguments and
 * outputs) a string leaf has its occurrences replaced and a number or boolean
 * leaf equal to a secret becomes the string `[redacted]`.
 */
export class Redactor {
  #secrets = new Set<string>();
  /** Longest first, so that a secret containing another is replaced whole. */
  #ordered: string[] = [];

  async load(store: Store): Promise<void> {
    for (const entry of await store.listConfig()) if (entry.isSecret) this.add(entry.value);
  }

  add(value: Json): void {
    const before = this.#secrets.size;
    if (value !== null && typeof value === 'object') this.#keep(JSON.stringify(value));
    for (const leaf of leaves(value)) {
      this.#keep(leaf);
      this.#keep(JSON.stringify(leaf).slice(1, -1));
    }
    if (this.#secrets.size !== before) this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
  }

  text(input: string): string {
    let out = input;
    for (const secret of this.#ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  json(value: Json): Json {
    if (this.#secrets.size === 0) return value;
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'number' || typeof value === 'boolean') return this.#secrets.has(String(value)) ? REDACTED : value;
    if (Array.isArray(value)) return value.map((v) => this.json(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.json(v)]));
    }
    return value;
  }

  #keep(text: string): void {
    if (text.length >= MIN_SECRET_LENGTH) this.#secrets.add(text);
  }
}

/** The strings, numbers and booleans inside a JSON value, as text. */
function leaves(value: Json): string[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (typeof value === 'object') return Object.values(value).flatMap((v) => leaves(v as Json));
  return [String(value)];
}
