/**
 * When a failed delivery is tried again. Pure (tests drive it with fixed
 * random numbers).
 *
 * Attempts are 8 at most: after the 1st to 7th failure the next comes after
 * 5 s, 1 min, 5 min, 30 min, 2 h, 6 h, 15 h (about 23.6 h from the first
 * attempt to the last), each ±20 % so that
 * endpoints that failed together do not all come back together.
 */
export const RETRY_DELAYS_MS = [5_000, 60_000, 300_000, 1_800_000, 7_200_000, 21_600_000, 54_000_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** A `Retry-After` is honoured up to this long (a receiver cannot park a delivery for days). */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** What one attempt came to (from the HTTP exchange). */
export type AttemptResult =
  | { kind: 'response'; status: number; retryAfter: string | null }
  /** Timeout, refused or reset connection, DNS failure: worth retrying. */
  | { kind: 'network'; message: string }
  /** Refused by us before any request (SSRF rules, a URL we cannot post to): retrying cannot help. */
  | { kind: 'refused'; message: string };

export type Decision = { result: 'delivered' } | { result: 'retry'; delayMs: number } | { result: 'failed' };

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * 2xx: delivered. 408, 429, 5xx and network failures: retried (429/503 after
 * their `Retry-After` when longer than the backoff) until MAX_ATTEMPTS. Other
 * statuses (4xx, and 1xx/3xx: redirects are not followed) and refusals: failed.
 * `scale` shortens the delays (tests; WEBHOOK_RETRY_SCALE).
 */
export function decide(
  outcome: AttemptResult,
  attempt: number,
  options: { now?: number; random?: () => number; scale?: number } = {},
): Decision {
  if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) return { result: 'delivered' };
  const retryable =
    outcome.kind === 'network' ||
    (outcome.kind === 'response' && (outcome.status === 408 || outcome.status === 429 || outcome.status >= 500));
  if (!retryable || attempt >= MAX_ATTEMPTS) return { result: 'failed' };
  const random = options.random ?? Math.random;
  const scale = options.scale ?? 1;
  const base = RETRY_DELAYS_MS[attempt - 1] ?? RETRY_DELAYS_MS.at(-1)!;
  let delayMs = Math.round(base * (0.8 + 0.4 * random()) * scale);
  if (outcome.kind === 'response') {
    const asked = retryAfterMs(outcome.retryAfter, options.now ?? Date.now());
    if (asked !== null) delayMs = Math.max(delayMs, Math.min(asked, MAX_RETRY_AFTER_MS));
  }
  return { result: 'retry', delayMs };
}
