import pg from 'pg';
import { TASKS_READY_CHANNEL } from './pg-dialect.js';

/**
 * One dedicated connection that LISTENs for `baton_tasks_ready` and calls the
 * listeners. When the connection drops (server restart, pg_terminate_backend)
 * it reconnects with a growing pause, warning once per outage rather than on
 * every attempt; workers keep polling meanwhile, so nothing stalls.
 */
export class PgListener {
  readonly #config: pg.ClientConfig;
  readonly #listeners = new Set<() => void>();
  readonly #warn: (message: string) => void;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = 100;
  #warned = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(config: pg.ClientConfig, warn: (message: string) => void) {
    this.#config = config;
    this.#warn = warn;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (!this.#client && !this.#timer) void this.#connect();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** The backend pid of the listening connection, for tests that terminate it. */
  get pid(): number | undefined {
    return (this.#client as unknown as { processID?: number } | undefined)?.processID;
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client(this.#config);
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', () => {
      for (const listener of this.#listeners) listener();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${TASKS_READY_CHANNEL}`);
      if (this.#closed) return void client.end().catch(() => {});
      this.#client = client;
      this.#retryMs = 100;
      if (this.#warned) this.#warn('LISTEN connection restored');
      this.#warned = false;
      // Anything that became ready while we were away: wake the listeners once.
      for (const listener of this.#listeners) listener();
    } catch {
      this.#lost(client);
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client && this.#client !== client) return;
    this.#client = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => {});
    if (this.#closed || this.#timer) return;
    if (!this.#warned) this.#warn(`LISTEN connection lost; reconnecting (workers keep polling meanwhile)`);
    this.#warned = true;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, 5000);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
    }
  }
}
