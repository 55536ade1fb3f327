import { useState } from 'preact/hooks';
import { get, post, type Json, type JsonSchema, type Run, type Workflow } from '../api.js';
import { usePolled } from '../hooks.js';
import { href, navigate } from '../router.js';
import { useSession } from '../session.js';

type Field = { name: string; schema: JsonSchema; required: boolean };

const typeOf = (s: JsonSchema) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);

/** Inputs from form values, typed by the schema; a field left empty is left out. */
function collect(fields: Field[], values: { [name: string]: string | boolean }): { [key: string]: Json } {
  const inputs: { [key: string]: Json } = {};
  for (const f of fields) {
    const v = values[f.name];
    const type = typeOf(f.schema);
    if (type === 'boolean') inputs[f.name] = v === true;
    else if (v === undefined || v === '') continue;
    else if (f.schema.enum) inputs[f.name] = f.schema.enum.find((e) => JSON.stringify(e) === v) ?? (v as string);
    else if (type === 'number' || type === 'integer') inputs[f.name] = Number(v);
    else if (type === 'string') inputs[f.name] = String(v);
    else inputs[f.name] = JSON.parse(String(v)) as Json;
  }
  return inputs;
}

/** A run of the workflow triggered by a person (`triggeredBy: 'user'`): a form from its input schema, else a JSON editor. */
export function TriggerPage({ id }: { id: string }) {
  const session = useSession();
  const workflow = usePolled(() => get<Workflow>(`/workflows/${id}`), [id], false);
  const [values, setValues] = useState<{ [name: string]: string | boolean }>({});
  const [raw, setRaw] = useState('{\n  \n}');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (workflow.error) return <p class="error-banner">{workflow.error}</p>;
  const w = workflow.data;
  if (!w) return <p class="loading">Loading…</p>;
  const schema = w.inputSchema;
  const fields: Field[] = Object.entries(schema?.properties ?? {}).map(([name, s]) => ({
    name,
    schema: s,
    required: schema?.required?.includes(name) ?? false,
  }));
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    let inputs: { [key: string]: Json };
    try {
      const parsed = schema ? collect(fields, values) : (JSON.parse(raw) as Json);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('inputs must be a JSON object');
      inputs = parsed as { [key: string]: Json };
    } catch (err) {
      setError(`Inputs are not valid: ${(err as Error).message}`);
      return;
    }
    setBusy(true);
    try {
      const { run } = await post<{ run: Run }>(`/workflows/${w.id}/runs`, { inputs });
      navigate(`/runs/${run.id}`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <p class="crumbs">
        <a href={href('/workflows')}>Workflows</a> / {w.name}
      </p>
      <h1>Trigger {w.name}</h1>
      {w.description && <p class="dim">{w.description}</p>}
      {!session.canAct && <p class="error-banner">This dashboard is read-only for you: the host has not authorized actions.</p>}
      <form class="trigger" onSubmit={submit}>
        {schema ? (
          fields.map((f) => {
            const type = typeOf(f.schema);
            const id = `in-${f.name}`;
            const label = (
              <label for={id}>
                {f.schema.title ?? f.name}
                {f.required && <span class="req"> *</span>}
              </label>
            );
            const hint = f.schema.description && <small class="dim">{f.schema.description}</small>;
            const value =
              values[f.name] ??
              (f.schema.default !== undefined
                ? typeof f.schema.default === 'string'
                  ? f.schema.default
                  : JSON.stringify(f.schema.default)
                : '');
            const set = (v: string | boolean) => setValues({ ...values, [f.name]: v });
            if (type === 'boolean') {
              return (
                <div class="field" key={f.name}>
                  <label for={id}>
                    <input
                      id={id}
                      name={f.name}
                      type="checkbox"
                      checked={values[f.name] === true || (values[f.name] === undefined && f.schema.default === true)}
                      onChange={(e) => set(e.currentTarget.checked)}
                    />{' '}
                    {f.schema.title ?? f.name}
                  </label>
                  {hint}
                </div>
              );
            }
            return (
              <div class="field" key={f.name}>
                {label}
                {f.schema.enum ? (
                  <select id={id} name={f.name} required={f.required} value={String(value)} onChange={(e) => set(e.currentTarget.value)}>
                    <option value="">—</option>
                    {f.schema.enum.map((e) => (
                      <option key={JSON.stringify(e)} value={typeof e === 'string' ? e : JSON.stringify(e)}>
                        {String(e)}
                      </option>
                    ))}
                  </select>
                ) : type === 'number' || type === 'integer' ? (
                  <input
                    id={id}
                    name={f.name}
                    type="number"
                    step={type === 'integer' ? 1 : 'any'}
                    required={f.required}
                    value={String(value)}
                    onInput={(e) => set(e.currentTarget.value)}
                  />
                ) : type === 'string' ? (
                  <input
                    id={id}
                    name={f.name}
                    type="text"
                    required={f.required}
                    value={String(value)}
                    onInput={(e) => set(e.currentTarget.value)}
                  />
                ) : (
                  <textarea
                    id={id}
                    name={f.name}
                    rows={3}
                    required={f.required}
                    placeholder="JSON"
                    value={String(value)}
                    onInput={(e) => set(e.currentTarget.value)}
                  />
                )}
                {hint}
              </div>
            );
          })
        ) : (
          <div class="field">
            <label for="inputs-json">Inputs (JSON object)</label>
            <textarea id="inputs-json" name="inputs" rows={10} class="mono" value={raw} onInput={(e) => setRaw(e.currentTarget.value)} />
          </div>
        )}
        {error && (
          <p class="error-banner" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || !session.canAct}>
          Trigger run
        </button>
      </form>
    </section>
  );
}
