import type { IncomingMessage } from 'node:http';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { parseAuthorization, principalKey } from '../../auth/viewer.js';

/**
 * Per-client rate limits: budgets of points (query cost) per window, requests in flight, and a budget of
 * failed authentications per address — in Redis when there is one (shared by all processes), in memory
 * otherwise. Charged by the limits plugins (limits.ts), GraphiQL's routes and the response tier.
 */

/** Nodes per rate-limit point: a query of `cost` nodes is charged cost / 100 points, rounded, at least 1 (GitHub's rule). */
export const NODES_PER_POINT = 100;

/** The points charged for a query that may return `cost` nodes. */
export function pointsOf(cost: number): number {
  return Number.isFinite(cost) ? Math.max(1, Math.round(cost / NODES_PER_POINT)) : 1;
}

/** Failed authentications per client address per window, unless configured (RATE_LIMIT_AUTH_FAILURES…). */
export const DEFAULT_AUTH_FAILURES = { points: 20, durationSec: 60 } as const;

export interface RateLimitOptions {
  /** Points (query cost, at least 1 per request) per client per window. */
  points: number;
  /** Window in seconds. */
  durationSec: number;
  /** Requests a client may have in flight at once (per server process). */
  maxInFlight: number;
  /**
   * Failed authentications (401s) per client address per window; default
   * `DEFAULT_AUTH_FAILURES`. Once spent, requests from the address that carry
   * a token not yet accepted are refused (429) without being looked up.
   */
  authFailures?: { points: number; durationSec: number };
  /** Shared state for all server processes; per-process memory when absent. */
  redis?: Redis | null;
  /** Separates the budgets of different archives (or test servers) sharing one Redis; default `main`. */
  namespace?: string;
}

export interface LimitsOptions {
  rateLimit: RateLimitOptions;
  /** Take the client address from X-Forwarded-For (only behind a trusted proxy). */
  trustProxy: boolean;
}

/** Limits that never bite (tests, embedding, benchmarks): the same code runs, with budgets nobody reaches. */
export const NO_LIMITS: LimitsOptions = {
  rateLimit: {
    points: 1_000_000_000,
    durationSec: 3600,
    maxInFlight: 1_000_000,
    authFailures: { points: 1_000_000_000, durationSec: 60 },
  },
  trustProxy: false,
};

/** Who a request counts against: its token's principal (never the header's text), else its address. */
export function clientKey(request: Request, serverContext: unknown, trustProxy: boolean): string {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return clientKeyOf((name) => request.headers.get(name), req?.socket?.remoteAddress, trustProxy);
}

/** `clientKey` over any request's headers (a fetch Request's, or node:http's before Yoga sees the request). */
export function clientKeyOf(
  header: (name: string) => string | null | undefined,
  remoteAddress: string | undefined,
  trustProxy: boolean,
): string {
  const credentials = parseAuthorization(header('authorization'));
  if (credentials.kind === 'bearer') return principalKey(credentials.token);
  return addressKeyOf(header, remoteAddress, trustProxy);
}

/** The client address of a request, whatever it carries (failed authentications are charged to it). */
export function addressKeyOf(
  header: (name: string) => string | null | undefined,
  remoteAddress: string | undefined,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const forwarded = header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return `ip:${forwarded}`;
  }
  return `ip:${remoteAddress ?? 'unknown'}`;
}

/**
 * The rate-limit state of one server process (budgets, requests in flight),
 * shared by Yoga's plugins (`limitsPlugins`) and the response tier, which
 * answers some repeated reads before Yoga sees them (src/http/pipeline/response-tier.ts).
 */
export interface RateLimits {
  readonly options: LimitsOptions;
  /** Requests in flight per client (this process). */
  readonly inFlight: Map<string, number>;
  /** A client's state without charging it (undefined when unknown or the store fails). */
  peek(key: string): Promise<RateLimiterRes | undefined>;
  /** Charges a query of `cost` nodes to a client — `pointsOf(cost)` points; resolves with its state after the charge. */
  charge(key: string, cost: number): Promise<RateLimiterRes | undefined>;
  /** The `x-ratelimit-*` headers for a client's state (a full budget when unknown). */
  headers(state: RateLimiterRes | undefined): Record<string, string>;
  /**
   * For an answer that needs no work (a cached response of `cost` nodes):
   * charges it when the client has points left and no full quota of requests
   * in flight, and returns the headers to send; `null` when the request must
   * be refused (then Yoga's plugins answer it, with their 429).
   */
  admitCached(key: string, cost: number): Promise<Record<string, string> | null>;
  /** An address's budget of failed authentications, without charging it. */
  peekFailures(address: string): Promise<RateLimiterRes | undefined>;
  /** Charges one failed authentication to an address. */
  chargeFailure(address: string): Promise<RateLimiterRes | undefined>;
  /** The `x-ratelimit-*` headers of an address's failure budget (`x-ratelimit-resource: auth-failures`). */
  failureHeaders(state: RateLimiterRes | undefined): Record<string, string>;
  /** Whether a token (its principal key) was accepted lately — by this process, or by any with Redis. */
  isKnownPrincipal(key: string): Promise<boolean>;
  /** Records that a token (its principal key) was accepted. */
  rememberPrincipal(key: string): void;
  /** Forgets it again (it failed: revoked or expired since). */
  forgetPrincipal(key: string): void;
}

/** The response tier's `admit` hook (src/http/pipeline/response-tier.ts) over these limits: a node:http request counts as Yoga counts it. */
export function admitNodeRequest(
  limits: RateLimits,
): (req: IncomingMessage, cost: number) => Promise<Record<string, string> | null> {
  const { trustProxy } = limits.options;
  return (req, cost) => {
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    return limits.admitCached(clientKeyOf(header, req.socket.remoteAddress, trustProxy), cost);
  };
}

/** How long an accepted token is remembered as such (it then passes an address's spent failure budget). */
const KNOWN_PRINCIPAL_SEC = 3600;

/** A limiter in Redis when there is one, falling back to its memory twin while Redis fails (fail open, still limited). */
function limiter(redis: Redis | null | undefined, points: number, durationSec: number, prefix: string) {
  const memory = new RateLimiterMemory({ points, duration: durationSec, keyPrefix: prefix });
  return redis
    ? new RateLimiterRedis({
        storeClient: redis,
        points,
        duration: durationSec,
        keyPrefix: `llmp:${prefix}`,
        insuranceLimiter: memory,
      })
    : memory;
}

/** x-ratelimit-* headers of a budget of `points` per `durationSec`. */
function budgetHeaders(points: number, durationSec: number, resource: string) {
  return (res: RateLimiterRes | undefined): Record<string, string> => {
    const remaining = res ? Math.max(0, res.remainingPoints) : points;
    const resetMs = res ? res.msBeforeNext : durationSec * 1000;
    return {
      'x-ratelimit-limit': String(points),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-used': String(points - remaining),
      'x-ratelimit-reset': String(Math.ceil((Date.now() + resetMs) / 1000)),
      'x-ratelimit-resource': resource,
    };
  };
}

/** Creates the rate limits of a process (one per server; give the same to createApp and the response tier). */
export function createRateLimits(options: LimitsOptions): RateLimits {
  const { rateLimit } = options;
  const redis = rateLimit.redis ?? null;
  // With Redis the budgets are shared by all processes; if Redis fails, each
  // process falls back to its own in-memory budgets (fail open, still limited).
  const ns = rateLimit.namespace ?? 'main';
  const main = limiter(redis, rateLimit.points, rateLimit.durationSec, `rl:${ns}`);
  const failuresOptions = rateLimit.authFailures ?? DEFAULT_AUTH_FAILURES;
  const failures = limiter(redis, failuresOptions.points, failuresOptions.durationSec, `rl:${ns}:authfail`);
  const headers = budgetHeaders(rateLimit.points, rateLimit.durationSec, 'graphql');
  const failureHeaders = budgetHeaders(failuresOptions.points, failuresOptions.durationSec, 'auth-failures');
  const stateOf = (res: unknown) =>
    res && typeof res === 'object' && 'remainingPoints' in res ? (res as RateLimiterRes) : undefined;
  // A charge beyond the budget still counts (GitHub-style: what was asked for is charged);
  // the rejection carries the state. A store failure leaves the state unknown.
  const charge = (key: string, cost: number) => main.consume(key, pointsOf(cost)).catch(stateOf);
  const inFlight = new Map<string, number>();
  const peek = async (key: string) => (await main.get(key).catch(() => null)) ?? undefined;
  const known = new LRUCache<string, true>({ max: 10_000, ttl: KNOWN_PRINCIPAL_SEC * 1000 });
  const knownKey = (key: string) => `llmp:rl:${ns}:known:${key}`;
  return {
    options,
    inFlight,
    peek,
    charge,
    headers,
    admitCached: async (key, cost) => {
      if ((inFlight.get(key) ?? 0) >= rateLimit.maxInFlight) return null;
      const before = await peek(key);
      if (before && before.remainingPoints <= 0) return null;
      return headers((await charge(key, cost)) ?? before);
    },
    peekFailures: async (address) => (await failures.get(address).catch(() => null)) ?? undefined,
    chargeFailure: (address) => failures.consume(address, 1).catch(stateOf),
    failureHeaders,
    isKnownPrincipal: async (key) => {
      if (known.has(key)) return true;
      if (!redis) return false;
      const found = (await redis.exists(knownKey(key)).catch(() => 0)) > 0;
      if (found) known.set(key, true);
      return found;
    },
    rememberPrincipal: (key) => {
      if (known.has(key)) return;
      known.set(key, true);
      redis?.set(knownKey(key), '1', 'EX', KNOWN_PRINCIPAL_SEC).catch(() => known.delete(key));
    },
    forgetPrincipal: (key) => {
      known.delete(key);
      redis?.del(knownKey(key)).catch(() => {});
    },
  };
}
