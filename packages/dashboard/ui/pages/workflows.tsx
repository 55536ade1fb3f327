import { useState } from 'preact/hooks';
import { get, post, type Page, type Workflow } from '../api.js';
import { Dag } from '../components/dag.js';
import { time } from '../components/format.js';
import { Status } from '../components/status.js';
import { usePolled } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';

const COUNTED = ['pending', 'running', 'success', 'failed', 'cancelled', 'timeout'];

export function WorkflowsPage() {
  const session = useSession();
  const list = usePolled(() => get<Page<Workflow>>('/workflows'), []);
  const [error, setError] = useState<string | null>(null);
  const toggle = async (w: Workflow) => {
    try {
      await post(`/workflows/${w.id}/${w.status === 'paused' ? 'resume' : 'pause'}`);
      setError(null);
      list.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section>
      <h1>Workflows</h1>
      {(error ?? list.error) && <p class="error-banner">{error ?? list.error}</p>}
      {list.data?.items.length === 0 && <p class="empty">No workflows defined yet.</p>}
      <div class="cards">
        {list.data?.items.map((w) => (
          <article class="card" key={w.id} data-workflow={w.name}>
            <header>
              <h2>{w.name}</h2>
              <Status status={w.status} />
              {session.canAct && (w.status === 'active' || w.status === 'paused') && (
                <button type="button" onClick={() => toggle(w)}>
                  {w.status === 'paused' ? 'Resume' : 'Pause'}
                </button>
              )}
              {session.canAct && w.status === 'active' && (
                <a class="button primary" href={href(`/workflows/${w.id}/trigger`)}>
                  Trigger
                </a>
              )}
            </header>
            {w.description && <p class="dim">{w.description}</p>}
            <Dag steps={w.steps} />
            {w.schedules.length > 0 && (
              <ul class="schedules">
                {w.schedules.map((s) => (
                  <li key={s.name ?? s.cron}>
                    <code>{s.cron}</code> {s.timezone ?? 'UTC'} — next:{' '}
                    {s.nextFire ? time(s.nextFire) : w.status === 'active' ? '—' : `none while ${w.status}`}
                  </li>
                ))}
              </ul>
            )}
            <p class="counts">
              {COUNTED.map((s) => (
                <a key={s} href={href('/runs', { workflowId: w.id, status: s })} class={`count s-${s}`} data-count={s}>
                  {s} <b>{w.counts?.[s] ?? 0}</b>
                </a>
              ))}
            </p>
          </article>
        ))}
      </div>
    </section>
  );
}
