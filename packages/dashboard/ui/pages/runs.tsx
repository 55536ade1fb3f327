import { useState } from 'preact/hooks';
import { get, type Page, type Run, type Workflow } from '../api.js';
import { ago, duration, span } from '../components/format.js';
import { Status } from '../components/status.js';
import { usePolled } from '../hooks.js';
import { href, navigate, type Route } from '../router.js';

const STATUSES = ['pending', 'running', 'success', 'failed', 'cancelled', 'timeout'];
const TRIGGERS = ['manual', 'user', 'api', 'schedule', 'webhook'];

/** The run list: filtered, paged by cursor, live (the shown page is re-read every poll). */
export function RunsPage({ route }: { route: Route }) {
  const filters = {
    workflowId: route.params.get('workflowId'),
    status: route.params.get('status'),
    triggeredBy: route.params.get('triggeredBy'),
  };
  const cursor = route.params.get('cursor');
  // Cursors of the pages before this one, for "newer".
  const [back, setBack] = useState<(string | null)[]>([]);
  const workflows = usePolled(() => get<Page<Workflow>>('/workflows'), [], false);
  const runs = usePolled(
    () => get<Page<Run>>('/runs', { ...filters, cursor }),
    [filters.workflowId, filters.status, filters.triggeredBy, cursor],
  );
  const setFilter = (key: string, value: string) => {
    setBack([]);
    navigate('/runs', { ...filters, [key]: value || null });
  };
  return (
    <section>
      <h1>Runs</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Choice
          label="Workflow"
          name="workflowId"
          value={filters.workflowId}
          options={workflows.data?.items.map((w) => [w.id, w.name]) ?? []}
          onChange={setFilter}
        />
        <Choice label="Status" name="status" value={filters.status} options={STATUSES.map((s) => [s, s])} onChange={setFilter} />
        <Choice label="Trigger" name="triggeredBy" value={filters.triggeredBy} options={TRIGGERS.map((s) => [s, s])} onChange={setFilter} />
        <span class="live" title="re-read every 1.5 s">
          ● live
        </span>
      </form>
      {runs.error && <p class="error-banner">{runs.error}</p>}
      <table class="runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Workflow</th>
            <th>Status</th>
            <th>Trigger</th>
            <th>Tasks</th>
            <th>Created</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {runs.data?.items.map((r) => (
            <tr key={r.id} data-run-id={r.id} data-status={r.status}>
              <td>
                <a href={href(`/runs/${r.id}`)} class="mono">
                  {r.id.slice(-12)}
                </a>
              </td>
              <td>{r.workflowName}</td>
              <td>
                <Status status={r.status} />
              </td>
              <td>{r.triggeredBy}</td>
              <td>
                {r.tasksFinished}/{r.tasksTotal}
                {r.tasksFailed > 0 && <span class="failed-count"> ({r.tasksFailed} not ok)</span>}
              </td>
              <td title={r.createdAt}>{ago(r.createdAt)}</td>
              <td>{duration(r.durationMs ?? (r.status === 'running' ? span(r.startedAt, null) : null))}</td>
            </tr>
          ))}
          {runs.data && runs.data.items.length === 0 && (
            <tr>
              <td colSpan={7} class="empty">
                No runs{filters.workflowId || filters.status || filters.triggeredBy ? ' match these filters' : ' yet'}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <nav class="pager">
        <button
          type="button"
          disabled={!cursor}
          onClick={() => {
            const previous = back.slice(0, -1);
            const target = back[back.length - 1] ?? null;
            setBack(previous);
            navigate('/runs', { ...filters, cursor: target });
          }}
        >
          ← Newer
        </button>
        <button
          type="button"
          disabled={!runs.data?.nextCursor}
          onClick={() => {
            setBack([...back, cursor]);
            navigate('/runs', { ...filters, cursor: runs.data!.nextCursor });
          }}
        >
          Older →
        </button>
      </nav>
    </section>
  );
}

/** One filter: a labelled select whose empty choice means "all". */
function Choice(props: {
  label: string;
  name: string;
  value: string | null;
  options: [value: string, text: string][];
  onChange: (name: string, value: string) => void;
}) {
  return (
    <label>
      {props.label}
      <select name={props.name} value={props.value ?? ''} onChange={(e) => props.onChange(props.name, e.currentTarget.value)}>
        <option value="">all</option>
        {props.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
