import { get, type ConfigEntry } from '../api.js';
import { time } from '../components/format.js';
import { JsonView } from '../components/json-view.js';
import { usePolled } from '../hooks.js';

/** Keys and types. The server never sends a secret's value, so there is nothing here to hide. */
export function ConfigPage() {
  const config = usePolled(() => get<ConfigEntry[]>('/config'), [], false);
  return (
    <section>
      <h1>Config</h1>
      {config.error && <p class="error-banner">{config.error}</p>}
      <table class="config">
        <thead>
          <tr>
            <th>Key</th>
            <th>Type</th>
            <th>Value</th>
            <th>Description</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {config.data?.map((c) => (
            <tr key={c.key} data-key={c.key}>
              <td class="mono">{c.key}</td>
              <td>{c.valueType}</td>
              <td>{c.isSecret ? <span class="secret">secret (not shown)</span> : <JsonView value={c.value ?? null} />}</td>
              <td>{c.description ?? ''}</td>
              <td>{time(c.updatedAt)}</td>
            </tr>
          ))}
          {config.data?.length === 0 && (
            <tr>
              <td colSpan={5} class="empty">
                No config entries.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
