import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, setCsrfToken, type Session } from './api.js';
import { ConfigPage } from './pages/config.js';
import { RunPage } from './pages/run.js';
import { RunsPage } from './pages/runs.js';
import { TriggerPage } from './pages/trigger.js';
import { WorkflowsPage } from './pages/workflows.js';
import { href, useRoute } from './router.js';
import { SessionContext } from './session.js';

function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Session>('/session').then(
      (s) => {
        setCsrfToken(s.csrfToken);
        setSession(s);
      },
      (e: Error) => setError(e.message),
    );
  }, []);
  if (error) return <p class="error-banner">{error}</p>;
  if (!session) return <p class="loading">Loading…</p>;
  const [section = 'runs', id, sub] = route.path;
  let page;
  if (section === 'runs' && id) page = <RunPage key={id} id={id} />;
  else if (section === 'workflows' && id && sub === 'trigger') page = <TriggerPage id={id} />;
  else if (section === 'workflows') page = <WorkflowsPage />;
  else if (section === 'config') page = <ConfigPage />;
  else page = <RunsPage route={route} />;
  const tab = (name: string, label: string) => (
    <a href={href(`/${name}`)} class={section === name ? 'active' : ''}>
      {label}
    </a>
  );
  return (
    <SessionContext.Provider value={session}>
      <nav class="top">
        <span class="brand">Baton</span>
        {tab('runs', 'Runs')}
        {tab('workflows', 'Workflows')}
        {tab('config', 'Config')}
        <span class="who">
          {session.store} store · {session.canAct ? 'actions allowed' : 'read-only'}
        </span>
      </nav>
      <main>{page}</main>
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
