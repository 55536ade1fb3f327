// The run page and its panels (tasks, output, timeline, logs, tool calls). Over 300 lines on purpose:
// each panel is a small component used only here, and they share the run's polled state; the
// components shared with other pages live in ../components.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, post, type Json, type Log, type Page, type Run, type Task, type ToolExecution, type Workflow } from '../api.js';
import { Dag } from '../components/dag.js';
import { ACTIVE_RUN, RETRYABLE_RUN, duration, span, time } from '../components/format.js';
import { JsonView } from '../components/json-view.js';
import { LogLine } from '../components/log-view.js';
import { Markdown } from '../components/markdown.js';
import { Status } from '../components/status.js';
import { POLL_MS, usePolled } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';

interface RunDetail {
  run: Run;
  tasks: Page<Task>;
  workflow: Workflow | null;
}

/** The status a step shows in the DAG, from its tasks. */
function stepStatus(tasks: Task[]): string | undefined {
  if (tasks.length === 0) return undefined;
  const has = (...s: string[]) => tasks.some((t) => s.includes(t.status));
  if (has('failed')) return 'failed';
  if (has('timeout')) return 'timeout';
  if (has('running', 'dispatched')) return 'running';
  if (tasks.every((t) => t.status === 'success')) return 'success';
  if (has('cancelled')) return 'cancelled';
  if (has('pending')) return 'pending';
  return 'waiting';
}

export function RunPage({ id }: { id: string }) {
  const session = useSession();
  const detail = usePolled(() => get<RunDetail>(`/runs/${id}`), [id]);
  const [more, setMore] = useState<{ tasks: Task[]; cursor: string | null }>({ tasks: [], cursor: null });
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  if (detail.error && !detail.data) return <p class="error-banner">{detail.error}</p>;
  if (!detail.data) return <p class="loading">Loading…</p>;
  const { run, workflow } = detail.data;
  const tasks = [...detail.data.tasks.items, ...more.tasks];
  const nextTasks = more.cursor ?? detail.data.tasks.nextCursor;
  const byStep = new Map<string, Task[]>();
  for (const t of tasks) (byStep.get(t.stepName) ?? byStep.set(t.stepName, []).get(t.stepName)!).push(t);
  const executorOf = (step: string) => workflow?.steps.find((s) => s.name === step)?.executor ?? workflow?.executor ?? 'function';

  const act = async (action: 'cancel' | 'retry') => {
    setBusy(true);
    try {
      await post(`/runs/${id}/${action}`);
      setNotice({ kind: 'ok', text: action === 'cancel' ? 'Run cancelled.' : 'Failed tasks are pending again.' });
      detail.reload();
    } catch (e) {
      setNotice({ kind: 'error', text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="run" data-run-id={run.id}>
      <p class="crumbs">
        <a href={href('/runs')}>Runs</a> / <a href={href('/runs', { workflowId: run.workflowId })}>{run.workflowName}</a>
      </p>
      <header class="run-head">
        <h1>
          {run.workflowName} <span class="mono dim">{run.id}</span>
        </h1>
        <Status status={run.status} />
        <div class="actions">
          {session.canAct ? (
            <>
              {ACTIVE_RUN.has(run.status) && (
                <button type="button" class="danger" disabled={busy} onClick={() => act('cancel')}>
                  Cancel run
                </button>
              )}
              {RETRYABLE_RUN.has(run.status) && (
                <button type="button" disabled={busy} onClick={() => act('retry')}>
                  Retry failed tasks
                </button>
              )}
            </>
          ) : (
            <span class="readonly" title="the host has not authorized actions for you">
              read-only
            </span>
          )}
        </div>
      </header>
      {notice && (
        <p class={notice.kind === 'ok' ? 'ok-banner' : 'error-banner'} role="status">
          {notice.text}
        </p>
      )}
      <dl class="facts">
        <dt>Trigger</dt>
        <dd>{run.triggeredBy}</dd>
        <dt>Created</dt>
        <dd>{time(run.createdAt)}</dd>
        <dt>Started</dt>
        <dd>{time(run.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{time(run.finishedAt)}</dd>
        <dt>Duration</dt>
        <dd>{duration(run.durationMs ?? span(run.startedAt, run.finishedAt))}</dd>
        <dt>Tasks</dt>
        <dd>
          {run.tasksFinished}/{run.tasksTotal} finished, {run.tasksFailed} not ok
        </dd>
      </dl>
      {run.error && <pre class="run-error">{run.error}</pre>}
      {Object.keys(run.inputs).length > 0 && (
        <details class="panel" open>
          <summary>Inputs</summary>
          <JsonView value={run.inputs} />
        </details>
      )}
      {workflow && (
        <div class="panel">
          <h2>Steps</h2>
          <Dag steps={workflow.steps} statusOf={(s) => stepStatus(byStep.get(s) ?? [])} />
        </div>
      )}
      <Timeline run={run} tasks={tasks} />
      <div class="panel">
        <h2>Tasks</h2>
        <table class="tasks">
          <thead>
            <tr>
              <th>Step</th>
              <th>#</th>
              <th>Status</th>
              <th>Attempt</th>
              <th>Duration</th>
              <th>Executor</th>
              <th>Execution</th>
              <th>Worker</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => (
              <TaskRow key={t.id} task={t} executor={executorOf(t.stepName)} />
            ))}
          </tbody>
        </table>
        {nextTasks && (
          <button
            type="button"
            onClick={async () => {
              const page = await get<Page<Task>>(`/runs/${id}/tasks`, { cursor: nextTasks });
              setMore({ tasks: [...more.tasks, ...page.items], cursor: page.nextCursor });
            }}
          >
            More tasks
          </button>
        )}
      </div>
      <Logs runId={id} steps={new Map(tasks.map((t) => [t.id, t.taskCount > 1 ? `${t.stepName}[${t.taskIndex}]` : t.stepName]))} />
      <Tools runId={id} />
    </section>
  );
}

function TaskRow({ task, executor }: { task: Task; executor: string }) {
  const [open, setOpen] = useState(task.status === 'failed' || task.status === 'timeout');
  const hasDetail = task.output !== null || task.error !== null;
  return (
    <>
      <tr data-task-id={task.id} data-status={task.status} class={hasDetail ? 'clickable' : ''} onClick={() => hasDetail && setOpen(!open)}>
        <td>{task.stepName}</td>
        <td>
          {task.taskIndex}/{task.taskCount}
        </td>
        <td>
          <Status status={task.status} />
        </td>
        <td>
          {task.attempt}/{task.maxAttempts}
        </td>
        <td>{duration(span(task.startedAt ?? task.dispatchedAt, task.finishedAt))}</td>
        <td>{executor}</td>
        <td class="mono">{task.executionName ?? '—'}</td>
        <td class="mono">{task.leaseOwner ?? '—'}</td>
      </tr>
      {open && hasDetail && (
        <tr class="task-detail">
          <td colSpan={8}>
            {task.error && <pre class="task-error">{task.error}</pre>}
            {task.output !== null && <Output output={task.output} />}
          </td>
        </tr>
      )}
    </>
  );
}

/** An LLM step's output (the response and its metadata) shown as a response; any other output as JSON. */
function Output({ output }: { output: Json }) {
  const o = output as { [key: string]: Json };
  if (o && typeof o === 'object' && !Array.isArray(o) && typeof o.text === 'string' && 'model' in o && 'tokens' in o) {
    const tokens = (o.tokens ?? {}) as { prompt?: number | null; completion?: number | null };
    return (
      <div class="llm" data-llm-response>
        <dl class="facts">
          <dt>Model</dt>
          <dd>{String(o.model ?? '—')}</dd>
          <dt>Payload</dt>
          <dd>{String(o.payloadName ?? '—')}</dd>
          <dt>Tokens</dt>
          <dd>
            {tokens.prompt ?? '?'} prompt, {tokens.completion ?? '?'} completion
          </dd>
          <dt>Duration</dt>
          <dd>{duration(typeof o.durationMs === 'number' ? o.durationMs : null)}</dd>
          <dt>Format</dt>
          <dd>
            {String(o.format ?? '—')} via {String(o.api ?? '—')}
          </dd>
        </dl>
        <Markdown text={o.text} />
      </div>
    );
  }
  return (
    <div class="output">
      <JsonView value={output} />
    </div>
  );
}

function Timeline({ run, tasks }: { run: Run; tasks: Task[] }) {
  const shown = tasks.filter((t) => t.startedAt ?? t.dispatchedAt).slice(0, 100);
  if (shown.length === 0) return null;
  const start = Math.min(...shown.map((t) => new Date((t.startedAt ?? t.dispatchedAt)!).getTime()));
  const end = Math.max(...shown.map((t) => (t.finishedAt ? new Date(t.finishedAt).getTime() : Date.now())), start + 1);
  return (
    <div class="panel">
      <h2>Timeline</h2>
      <div class="timeline">
        {shown.map((t) => {
          const s = new Date((t.startedAt ?? t.dispatchedAt)!).getTime();
          const e = t.finishedAt ? new Date(t.finishedAt).getTime() : Date.now();
          return (
            <div class="tl-row" key={t.id}>
              <span class="tl-label">
                {t.stepName}
                {t.taskCount > 1 ? `[${t.taskIndex}]` : ''}
              </span>
              <span class="tl-track">
                <span
                  class={`tl-bar s-${t.status}`}
                  style={{ left: `${((s - start) / (end - start)) * 100}%`, width: `${Math.max(0.5, ((e - s) / (end - start)) * 100)}%` }}
                  title={duration(e - s)}
                />
              </span>
            </div>
          );
        })}
      </div>
      <p class="dim">
        {duration(end - start)} from the first task's start{run.finishedAt ? '' : ' (so far)'}
        {tasks.length > shown.length ? `; first ${shown.length} tasks shown` : ''}
      </p>
    </div>
  );
}

/** The cursor past a log: stores' cursors are the sort key as JSON in base64url (core's encodeCursor). */
const afterLog = (id: number) =>
  btoa(JSON.stringify([id]))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** The run's logs in order, read incrementally from the last seen id while the page is open. */
function Logs({ runId, steps }: { runId: string; steps: Map<string, string> }) {
  const [logs, setLogs] = useState<Log[]>([]);
  const [error, setError] = useState<string | null>(null);
  const state = useRef({ cursor: null as string | null, stopped: false });
  useEffect(() => {
    state.current = { cursor: null, stopped: false };
    setLogs([]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pull = async () => {
      try {
        for (;;) {
          const page = await get<Page<Log>>(`/runs/${runId}/logs`, { cursor: state.current.cursor });
          if (state.current.stopped) return;
          if (page.items.length > 0) {
            setLogs((prev) => [...prev, ...page.items]);
            state.current.cursor = page.nextCursor ?? afterLog(page.items[page.items.length - 1]!.id);
          }
          if (!page.nextCursor) break;
        }
        setError(null);
      } catch (e) {
        setError((e as Error).message);
      }
      if (!state.current.stopped) timer = setTimeout(pull, POLL_MS);
    };
    void pull();
    return () => {
      state.current.stopped = true;
      clearTimeout(timer);
    };
  }, [runId]);
  return (
    <div class="panel">
      <h2>Logs</h2>
      {error && <p class="error-banner">{error}</p>}
      {logs.length === 0 ? (
        <p class="empty">No logs yet.</p>
      ) : (
        <ol class="logs">
          {logs.map((l) => (
            <LogLine key={l.id} log={l} step={l.taskId ? steps.get(l.taskId) : undefined} />
          ))}
        </ol>
      )}
    </div>
  );
}

function Tools({ runId }: { runId: string }) {
  const tools = usePolled(() => get<Page<ToolExecution>>(`/runs/${runId}/tools`), [runId]);
  const items = tools.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <div class="panel">
      <h2>Tool executions</h2>
      <table class="tools">
        <thead>
          <tr>
            <th>Tool</th>
            <th>Status</th>
            <th>Duration</th>
            <th>Arguments</th>
            <th>Output</th>
          </tr>
        </thead>
        <tbody>
          {items.map((t) => (
            <tr key={t.id} data-tool={t.toolName}>
              <td>{t.toolName}</td>
              <td>
                <Status status={t.status} />
              </td>
              <td>{duration(t.durationMs)}</td>
              <td>
                <JsonView value={t.arguments} />
              </td>
              <td>{t.error ? <pre class="task-error">{t.error}</pre> : <JsonView value={t.output} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {tools.data?.nextCursor && <p class="dim">First {items.length} tool executions shown.</p>}
    </div>
  );
}
