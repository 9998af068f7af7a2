import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { DbHandle } from './client.js';

/**
 * Follows the database's own announcements of changes (migration 0005: a
 * statement-level trigger on every archive table runs
 * `pg_notify('llmp_changes', <table>)`, delivered at commit), so that writes
 * made outside the API — a CLI import, psql, another server — reach the
 * response cache within moments instead of after its TTL.
 *
 * - PostgreSQL: a dedicated connection (not from the pool: a pooled client is
 *   handed to others and LISTEN is per session) that LISTENs, reconnects with
 *   capped exponential backoff when it drops, and sends a LISTEN again every
 *   `heartbeatMs` to find a connection that died silently (no FIN: a network
 *   partition, a host gone), which the socket alone would report only after
 *   minutes.
 * - PGlite: `pglite.listen` in process; notifications the PGlite bridge sees
 *   in raw protocol output (which bypasses PGlite's own listeners) come in
 *   through `dispatch`.
 *
 * While it is not `healthy()` changes may go unseen: the cache must serve
 * nothing then. Every (re)connection first calls `onChange('*')` (changes may
 * have been missed while it was down) and only becomes healthy once that has
 * settled, so nothing cached before the gap is served after it.
 */

export const CHANGE_CHANNEL = 'llmp_changes';
/** Shown in pg_stat_activity, so operators can tell this connection from the pool's. */
export const CHANGE_SIGNAL_APPLICATION_NAME = 'llmp-change-signal';

/** What the signal reports, for logs. */
export type ChangeSignalStatus =
  /** Listening (again): `healthy()` is true. */
  | { event: 'listening' }
  /** The connection was lost or could not be made: `healthy()` is false until the next attempt succeeds. */
  | { event: 'lost'; error: Error; retryInMs: number }
  /** `onChange` threw or rejected. */
  | { event: 'change-failed'; error: Error };

export interface ChangeSignalOptions {
  handle: Pick<DbHandle, 'kind' | 'pool' | 'pglite'>;
  /**
   * A table of the archive changed (its name), or '*': anything may have
   * changed. It should not throw; a rejection is reported through `onStatus`.
   */
  onChange: (table: string) => void | Promise<void>;
  /** Loss and recovery of the listener, and failures of `onChange` (for logs). */
  onStatus?: (status: ChangeSignalStatus) => void;
  /** Bound on connecting and on each heartbeat (PostgreSQL); default 2 s. */
  connectTimeoutMs?: number;
  /** First delay before reconnecting (doubles per failed attempt); default 100 ms. */
  retryMinMs?: number;
  /** Longest delay between attempts; default 5 s. */
  retryMaxMs?: number;
  /** How often the connection is checked (PostgreSQL); default 5 s, 0 disables it. */
  heartbeatMs?: number;
  /**
   * Where LISTEN connects (DATABASE_LISTEN_URL): the primary itself when the pool goes through a pooler in
   * transaction mode, which cannot keep a LISTEN. Default: the pool's own server.
   */
  listenUrl?: string | undefined;
}

export interface ChangeSignal {
  /** False while changes could be missed (PostgreSQL connection down, or closed). */
  healthy(): boolean;
  /** A notification seen elsewhere (the PGlite bridge's raw output); other channels are ignored. */
  dispatch: (channel: string, payload: string) => void;
  /** Stops listening; no reconnection after it. */
  close(): Promise<void>;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Starts following changes. Resolves once listening (PGlite) or after the
 * first connection attempt (PostgreSQL) — which, when it failed, goes on
 * retrying in the background while `healthy()` is false.
 */
export async function createChangeSignal(options: ChangeSignalOptions): Promise<ChangeSignal> {
  const report = (status: ChangeSignalStatus) => {
    try {
      options.onStatus?.(status);
    } catch {
      // a logger must not break the signal
    }
  };
  const changed = (table: string): Promise<void> => {
    try {
      return Promise.resolve(options.onChange(table)).catch((err: unknown) =>
        report({ event: 'change-failed', error: asError(err) }),
      );
    } catch (err) {
      report({ event: 'change-failed', error: asError(err) });
      return Promise.resolve();
    }
  };
  const { handle } = options;
  if (handle.pglite) return listenPglite(handle.pglite, changed);
  if (handle.kind === 'postgres' && handle.pool) return listenPostgres(handle.pool, options, changed, report);
  throw new Error('the change signal needs PostgreSQL or the process that opened the PGlite database');
}

async function listenPglite(pglite: PGlite, changed: (table: string) => Promise<void>): Promise<ChangeSignal> {
  let closed = false;
  const unlisten = await pglite.listen(CHANGE_CHANNEL, (payload) => void changed(payload));
  await changed('*');
  return {
    healthy: () => !closed,
    dispatch: (channel, payload) => {
      if (channel === CHANGE_CHANNEL && !closed) void changed(payload);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (!pglite.closed) await unlisten().catch(() => {});
    },
  };
}

async function listenPostgres(
  pool: pg.Pool,
  options: ChangeSignalOptions,
  changed: (table: string) => Promise<void>,
  report: (status: ChangeSignalStatus) => void,
): Promise<ChangeSignal> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  const retryMinMs = options.retryMinMs ?? 100;
  const retryMaxMs = options.retryMaxMs ?? 5_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  // The pool's own settings (host, credentials, startup options) are what it gives each of its clients.
  const config: pg.ClientConfig = {
    ...(options.listenUrl
      ? { connectionString: options.listenUrl, options: (pool.options as pg.ClientConfig).options }
      : (pool.options as pg.ClientConfig)),
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: CHANGE_SIGNAL_APPLICATION_NAME,
  };

  let closed = false;
  let healthy = false;
  /** The connection being opened or in use. */
  let current: pg.Client | null = null;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;

  const scheduleReconnect = (error: Error) => {
    // Spread the reconnections of many servers after a database restart.
    const base = Math.min(retryMaxMs, retryMinMs * 2 ** failures);
    const delay = Math.round(Math.min(retryMaxMs, base * (0.75 + Math.random() * 0.5)));
    failures++;
    report({ event: 'lost', error, retryInMs: delay });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().catch((err: unknown) => scheduleReconnect(asError(err)));
    }, delay);
    retryTimer.unref();
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const client = new pg.Client(config);
    current = client;
    let lost = false;
    let beating = false;
    const drop = (err: unknown) => {
      if (lost) return;
      lost = true;
      if (current === client) {
        current = null;
        healthy = false;
        clearInterval(heartbeatTimer);
        heartbeatTimer = undefined;
      }
      // end() also tears down a connection that hangs (a query in flight is aborted).
      client.end().catch(() => {});
      if (closed) return;
      scheduleReconnect(asError(err));
    };
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', drop);
    client.on('end', () => drop(new Error('the change-signal connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel === CHANGE_CHANNEL) void changed(msg.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      drop(err);
      return;
    }
    // Listening from here on: whatever happened before is covered by '*'.
    await changed('*');
    if (lost || closed) return;
    healthy = true;
    failures = 0;
    report({ event: 'listening' });
    if (heartbeatMs > 0) {
      heartbeatTimer = setInterval(() => {
        if (beating || lost) return;
        beating = true;
        // LISTEN again is a no-op round trip; pg_stat_activity keeps showing the LISTEN.
        const timeout = setTimeout(
          () => drop(new Error(`the change-signal connection did not answer within ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
        client.query(`LISTEN ${CHANGE_CHANNEL}`).then(
          () => {
            clearTimeout(timeout);
            beating = false;
          },
          (err: unknown) => {
            clearTimeout(timeout);
            drop(err);
          },
        );
      }, heartbeatMs);
      heartbeatTimer.unref();
    }
  };

  await connect();
  return {
    healthy: () => healthy && !closed,
    dispatch: (channel, payload) => {
      if (channel === CHANGE_CHANNEL && !closed) void changed(payload);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      healthy = false;
      clearTimeout(retryTimer);
      clearInterval(heartbeatTimer);
      const client = current;
      current = null;
      await client?.end().catch(() => {});
    },
  };
}
