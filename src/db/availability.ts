import { sql } from './orm.js';
import type { Db } from './client.js';

/**
 * Classifies database failures that are not the request's fault: the
 * database is unreachable / restarting / out of connections (retry shortly),
 * or a statement or lock wait ran out of time. Drizzle wraps driver errors in
 * DrizzleQueryError (`cause`), GraphQL in `originalError`: both are followed.
 */

const UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown (terminating connection due to administrator command)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (the database system is starting up / shutting down)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
]);
const TIMEOUT_STATES = new Set([
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available (lock_timeout)
  '25P03', // idle_in_transaction_session_timeout
]);
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOENT', // unix socket path gone while the server is down
]);
const UNAVAILABLE_MESSAGES = [
  /timeout exceeded when trying to connect/i, // pg-pool: pool exhausted or server silent
  /connection terminated/i, // pg: "Connection terminated unexpectedly" / "… due to connection timeout"
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /Cannot use a pool after calling end on the pool/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /terminating connection due to administrator command/i,
  /Connection ended unexpectedly/i,
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** The error and everything it wraps (cause, originalError, AggregateError.errors), depth-limited. */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [err];
  const seen = new Set<unknown>();
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const like = e as ErrorLike;
    out.push(like);
    queue.push(like.originalError, like.cause);
    if (Array.isArray(like.errors)) queue.push(...like.errors.slice(0, 4));
  }
  return out;
}

const codeOf = (e: ErrorLike) => (typeof e.code === 'string' ? e.code : null);
const messageOf = (e: ErrorLike) => (typeof e.message === 'string' ? e.message : '');

/** true for a statement cancelled by statement_timeout or a lock wait beyond lock_timeout. */
export function isTimeout(err: unknown): boolean {
  return chain(err).some((e) => {
    const code = codeOf(e);
    return code !== null && TIMEOUT_STATES.has(code);
  });
}

/** true when the database cannot be reached or refuses work for now (retrying later may succeed). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const errors = chain(err);
  if (errors.some((e) => codeOf(e) !== null && TIMEOUT_STATES.has(codeOf(e)!))) return false;
  return errors.some((e) => {
    const code = codeOf(e);
    if (code !== null) {
      if (UNAVAILABLE_STATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
      if (/^08[0-9A-Z]{3}$/.test(code)) return true; // connection_exception class
    }
    const message = messageOf(e);
    return UNAVAILABLE_MESSAGES.some((re) => re.test(message));
  });
}

/** `SELECT 1` answered within `timeoutMs`; never throws. */
export async function checkReady(db: Db, timeoutMs = 1_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const query = db.execute(sql`SELECT 1`).then(() => true);
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    return await Promise.race([query, timeout]);
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}
