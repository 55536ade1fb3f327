import type { Json } from '../api.js';

/** A collapsible JSON tree. Keys and strings are text nodes: nothing stored is interpreted. */
export function JsonView({ value, depth = 0 }: { value: Json | undefined; depth?: number }) {
  if (value === null || value === undefined) return <span class="j-null">null</span>;
  if (typeof value === 'string') return <span class="j-str">"{value}"</span>;
  if (typeof value === 'number') return <span class="j-num">{String(value)}</span>;
  if (typeof value === 'boolean') return <span class="j-bool">{String(value)}</span>;
  const entries: [string, Json][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return <span class="j-punct">{open + close}</span>;
  return (
    <details class="j-node" open={depth < 2}>
      <summary class="j-punct">
        {open}{' '}
        <span class="j-count">
          {entries.length} {Array.isArray(value) ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'}
        </span>
      </summary>
      <div class="j-children">
        {entries.map(([k, v]) => (
          <div class="j-entry" key={k}>
            {!Array.isArray(value) && <span class="j-key">{k}: </span>}
            <JsonView value={v} depth={depth + 1} />
          </div>
        ))}
      </div>
      <span class="j-punct">{close}</span>
    </details>
  );
}

/** A JSON viewer for text that should hold JSON; the text itself when it does not parse. */
export function JsonText({ text }: { text: string }) {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    return <pre class="log-plain">{text}</pre>;
  }
  return (
    <div class="json-view">
      <JsonView value={value} />
    </div>
  );
}
