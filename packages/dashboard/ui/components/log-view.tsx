import type { Log } from '../api.js';
import { JsonText } from './json-view.js';
import { Markdown } from './markdown.js';

const BOXES: { [type: string]: string } = { info: 'ℹ', warn: '⚠', danger: '✖', success: '✔' };

/** One log rendered by its type, as Microlight renders it. Only markdown becomes HTML, sanitized. */
function LogBody({ log }: { log: Log }) {
  switch (log.type) {
    case 'json':
      return <JsonText text={log.content} />;
    case 'markdown':
      return <Markdown text={log.content} />;
    case 'info':
    case 'warn':
    case 'danger':
    case 'success':
      return (
        <div class={`box box-${log.type}`}>
          <span class="box-icon" aria-hidden="true">
            {BOXES[log.type]}
          </span>
          <span class="box-text">{log.content}</span>
        </div>
      );
    case 'error': {
      const [message, ...stack] = log.content.split('\n');
      return (
        <div class="box box-error">
          <strong class="error-message">{message}</strong>
          {stack.length > 0 && (
            <details class="stack">
              <summary>stack</summary>
              <pre>{stack.join('\n')}</pre>
            </details>
          )}
        </div>
      );
    }
    default:
      return <pre class="log-plain">{log.content}</pre>;
  }
}

export function LogLine({ log, step }: { log: Log; step?: string | undefined }) {
  return (
    <li class={`log log-${log.type}`} data-log-type={log.type} data-log-id={log.id}>
      <div class="log-meta">
        <time>{new Date(log.createdAt).toLocaleTimeString()}</time>
        <span class="log-type">{log.type}</span>
        {step && <span class="log-step">{step}</span>}
      </div>
      <div class="log-body">
        <LogBody log={log} />
      </div>
    </li>
  );
}
