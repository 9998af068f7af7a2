import type { Plugin } from 'graphql-yoga';
import { checkReady } from '../../db/availability.js';
import type { Db } from '../../db/client.js';

export interface HealthState {
  /** Migrations applied (and the sample loaded); false while starting or shutting down. */
  ready: boolean;
  /**
   * A read replica is in rotation (DATABASE_REPLICA_URLS): the process can serve reads even while the primary
   * (or the pooler in front of it) does not answer — writes then fail fast with SERVICE_UNAVAILABLE.
   */
  readsElsewhere?: boolean;
}

export type GetHealthState = () => HealthState | Promise<HealthState>;

/** How long /readyz waits for `SELECT 1`. */
export const READY_CHECK_TIMEOUT_MS = 1_000;

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * The answer for GET /healthz and /readyz, or null for any other path.
 * /healthz (liveness): 200 "ok" as long as the process serves HTTP.
 * /readyz (readiness): 200 when the state is ready and the database answers
 * `SELECT 1` within a second (or, with replicas, one of them is in rotation);
 * otherwise 503 with an empty body (no internals).
 */
export async function healthResponse(
  method: string,
  pathname: string,
  getState: GetHealthState,
  db?: Db,
): Promise<{ status: number; body: string; headers: Record<string, string> } | null> {
  if (pathname !== '/healthz' && pathname !== '/readyz') return null;
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, body: '', headers: { ...NO_STORE, allow: 'GET, HEAD' } };
  }
  if (pathname === '/healthz') {
    return { status: 200, body: 'ok\n', headers: { ...NO_STORE, 'content-type': 'text/plain; charset=utf-8' } };
  }
  let ready = false;
  try {
    const state = await getState();
    ready = state.ready && (!db || (await checkReady(db, READY_CHECK_TIMEOUT_MS)) || state.readsElsewhere === true);
  } catch {
    ready = false;
  }
  return ready
    ? { status: 200, body: 'ready\n', headers: { ...NO_STORE, 'content-type': 'text/plain; charset=utf-8' } }
    : { status: 503, body: '', headers: { ...NO_STORE } };
}

/** Yoga plugin serving /healthz and /readyz (same pattern as markdownRoutes). */
export function healthRoutes(getState: GetHealthState, db?: Db): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const answer = await healthResponse(request.method, url.pathname, getState, db);
      if (!answer) return;
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' || answer.body === '' ? null : answer.body, {
          status: answer.status,
          headers: answer.headers,
        }),
      );
    },
  };
}
