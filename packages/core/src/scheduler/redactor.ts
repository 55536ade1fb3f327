import type { Json } from '../models.js';
import type { Store } from '../store.js';

export const REDACTED = '[redacted]';

/**
 * Knows the values of secret config entries and blanks them out of logs,
 * errors, events and tool audit records. Values shorter than 4 characters are
 * not redacted: replacing "1" everywhere would destroy logs and protect nothing.
 */
export class Redactor {
  #secrets = new Set<string>();

  async load(store: Store): Promise<void> {
    for (const entry of await store.listConfig()) if (entry.isSecret) this.add(entry.value);
  }

  add(value: Json): void {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text.length >= 4) this.#secrets.add(text);
  }

  text(input: string): string {
    let out = input;
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  json(value: Json): Json {
    if (this.#secrets.size === 0) return value;
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.json(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.json(v)]));
    }
    return value;
  }
}
