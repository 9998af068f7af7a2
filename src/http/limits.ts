import type { IncomingMessage } from 'node:http';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { WWW_AUTHENTICATE, parseAuthorization, principalKey, unauthenticatedMessage } from '../auth/viewer.js';
import { MAX_COST, queryCost, resultNodeCount } from '../graphql/cost.js';
import { maxExpandedFieldsPlugin } from '../graphql/document-size.js';

/** The limits of the public API (README "Limits and errors" lists them). */
export const LIMITS = {
  maxTokens: 1_000,
  maxAliases: 15,
  maxDirectives: 50,
  maxDepth: 10,
  /** Fields selected once fragments are expanded (a fragment counts again at every spread): QUERY_TOO_LARGE. */
  maxFields: 2_000,
  maxBodyBytes: 1_000_000,
  /** Nesting of JSON in variables and extensions (a POST body's own object is one more level). */
  maxJsonDepth: 100,
  maxCost: MAX_COST,
} as const;

/** Nodes per rate-limit point: a query of `cost` nodes is charged cost / 100 points, rounded, at least 1 (GitHub's rule). */
export const NODES_PER_POINT = 100;

/** The points charged for a query that may return `cost` nodes. */
export function pointsOf(cost: number): number {
  return Number.isFinite(cost) ? Math.max(1, Math.round(cost / NODES_PER_POINT)) : 1;
}

/** Failed authentications per client address per window, unless configured (RATE_LIMIT_AUTH_FAILURES…). */
export const DEFAULT_AUTH_FAILURES = { points: 20, durationSec: 60 } as const;

/**
 * Whether JSON text nests arrays and objects deeper than `limit`: one pass
 * over the text, brackets counted outside strings, no recursion (nothing is
 * parsed; invalid JSON is JSON.parse's to reject).
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // skip the string: to the next quote not escaped
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    }
  }
  return false;
}

/** Whether a parsed value nests arrays and objects deeper than `limit` (the value itself is level 1); iterative. */
export function valueDepthExceeds(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return true;
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

const tooDeepMessage = () =>
  `The request nests JSON deeper than ${LIMITS.maxJsonDepth} levels in its variables or extensions`;

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
  rateLimit: { points: 1_000_000_000, durationSec: 3600, maxInFlight: 1_000_000, authFailures: { points: 1_000_000_000, durationSec: 60 } },
  trustProxy: false,
};

function httpError(message: string, code: string, status: number, headers: Record<string, string> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status, headers } } });
}

function jsonResponse(fetchAPI: { Response: typeof Response }, status: number, message: string, code: string, headers: Record<string, string> = {}) {
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** Reads a request body, refusing (413) beyond `limit` bytes whatever Content-Length says. */
async function readLimited(request: Request, limit: number): Promise<string> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw httpError(`The request body is larger than ${limit} bytes`, 'PAYLOAD_TOO_LARGE', 413);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Who a request counts against: its token's principal (never the header's text), else its address. */
export function clientKey(request: Request, serverContext: unknown, trustProxy: boolean): string {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return clientKeyOf((name) => request.headers.get(name), req?.socket?.remoteAddress, trustProxy);
}

/** `clientKey` over any request's headers (a fetch Request's, or node:http's before Yoga sees the request). */
export function clientKeyOf(header: (name: string) => string | null | undefined, remoteAddress: string | undefined, trustProxy: boolean): string {
  const credentials = parseAuthorization(header('authorization'));
  if (credentials.kind === 'bearer') return principalKey(credentials.token);
  return addressKeyOf(header, remoteAddress, trustProxy);
}

/** The client address of a request, whatever it carries (failed authentications are charged to it). */
export function addressKeyOf(header: (name: string) => string | null | undefined, remoteAddress: string | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return `ip:${forwarded}`;
  }
  return `ip:${remoteAddress ?? 'unknown'}`;
}

/**
 * The rate-limit state of one server process (budgets, requests in flight),
 * shared by Yoga's plugins (`limitsPlugins`) and the response tier, which
 * answers some repeated reads before Yoga sees them (src/http/response-tier.ts).
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

/** The response tier's `admit` hook (src/http/response-tier.ts) over these limits: a node:http request counts as Yoga counts it. */
export function admitNodeRequest(limits: RateLimits): (req: IncomingMessage, cost: number) => Promise<Record<string, string> | null> {
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
    ? new RateLimiterRedis({ storeClient: redis, points, duration: durationSec, keyPrefix: `llmp:${prefix}`, insuranceLimiter: memory })
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
  const stateOf = (res: unknown) => (res && typeof res === 'object' && 'remainingPoints' in res ? (res as RateLimiterRes) : undefined);
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

/** How @graphql-yoga/plugin-response-cache marks a result it served from the cache. */
const SERVED_FROM_CACHE = Symbol.for('servedFromResponseCache');

interface RequestState {
  /** The budget it is charged to: its token's principal, else its address. */
  key: string;
  /** Its client address (failed authentications are charged there). */
  address: string;
  /** Whether it carries an Authorization header (any). */
  credentials: boolean;
  rate?: RateLimiterRes;
  /** Set once it failed authentication: its headers then describe the address's failure budget. */
  failed?: { state: RateLimiterRes | undefined };
  inFlight: boolean;
  /** Set once its operation is charged (a refused one is charged 1 point in onResultProcess). */
  charged?: boolean;
}

const isUnauthenticated = (result: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) =>
  result.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ?? false;

/**
 * Plugins that reject absurd or abusive requests before any SQL runs:
 * graphql-armor's document limits, a body size limit, a cost limit that
 * reads variables, and per-client rate limits with x-ratelimit-* headers.
 */
export function limitsPlugins(
  options: LimitsOptions | RateLimits,
  /** Sizes of plain lists read from the data, for the cost analysis (graphql/list-bounds.ts). */
  listSizes: () => Readonly<Record<string, number>> = () => ({}),
): Plugin[] {
  const limits = 'charge' in options ? options : createRateLimits(options);
  const { rateLimit, trustProxy } = limits.options;
  const { inFlight } = limits;
  const rateHeaders = limits.headers;
  const states = new WeakMap<Request, RequestState>();

  const gate: Plugin = {
    async onRequest({ request, url, serverContext, endResponse, fetchAPI }) {
      if (url.pathname !== '/graphql' || (request.method !== 'POST' && request.method !== 'GET')) return;
      const length = Number(request.headers.get('content-length') ?? '0');
      if (length > LIMITS.maxBodyBytes) {
        endResponse(jsonResponse(fetchAPI, 413, `The request body is larger than ${LIMITS.maxBodyBytes} bytes`, 'PAYLOAD_TOO_LARGE'));
        return;
      }
      // JSON too deeply nested for anything downstream that recurses (JSON.stringify of a cache key…):
      // GET parameters here, POST bodies as they are read (onRequestParse).
      if (request.method === 'GET' && url.search) {
        for (const name of ['variables', 'extensions']) {
          if (url.searchParams.getAll(name).some((v) => jsonDepthExceeds(v, LIMITS.maxJsonDepth))) {
            endResponse(jsonResponse(fetchAPI, 400, tooDeepMessage(), 'BAD_REQUEST'));
            return;
          }
        }
      }
      const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
      const header = (name: string) => request.headers.get(name);
      const address = addressKeyOf(header, req?.socket?.remoteAddress, trustProxy);
      const credentials = parseAuthorization(header('authorization'));
      const key = credentials.kind === 'bearer' ? principalKey(credentials.token) : address;
      const state: RequestState = { key, address, credentials: credentials.kind !== 'none', inFlight: false };
      states.set(request, state);
      if (credentials.kind !== 'none') {
        // Failed authentications are charged to the address, in a budget of their own. Once it is
        // spent, a token is not even looked up — unless it was accepted lately (an editor behind the
        // same address as a scanner keeps working).
        const failures = await limits.peekFailures(address);
        if (failures && failures.remainingPoints <= 0 && !(credentials.kind === 'bearer' && (await limits.isKnownPrincipal(key)))) {
          state.failed = { state: failures };
          endResponse(
            jsonResponse(fetchAPI, 429, 'Too many failed authentications from your address; see the Retry-After header', 'RATE_LIMITED', {
              'retry-after': String(Math.max(1, Math.ceil(failures.msBeforeNext / 1000))),
            }),
          );
          return;
        }
        // A header that is present but not "Bearer <token>" (empty, another scheme): 401 at once, no lookup.
        if (credentials.kind === 'invalid') {
          state.failed = { state: await limits.chargeFailure(address) };
          endResponse(jsonResponse(fetchAPI, 401, unauthenticatedMessage(credentials.reason), 'UNAUTHENTICATED', { 'www-authenticate': WWW_AUTHENTICATE }));
          return;
        }
      }
      const current = inFlight.get(key) ?? 0;
      if (current >= rateLimit.maxInFlight) {
        endResponse(
          jsonResponse(fetchAPI, 429, `Too many requests in flight (at most ${rateLimit.maxInFlight} at once)`, 'RATE_LIMITED', {
            'retry-after': '1',
          }),
        );
        return;
      }
      // take the slot before waiting for anything, so that a burst cannot overtake the check
      inFlight.set(key, current + 1);
      state.inFlight = true;
      state.rate = await limits.peek(key);
      if (state.rate && state.rate.remainingPoints <= 0) {
        endResponse(
          jsonResponse(fetchAPI, 429, 'The rate limit is exhausted; see the x-ratelimit-reset header', 'RATE_LIMITED', {
            'retry-after': String(Math.max(1, Math.ceil(state.rate.msBeforeNext / 1000))),
            ...rateHeaders(state.rate),
          }),
        );
      }
    },
    // Every POST body is read here, its bytes counted as they arrive (Content-Length
    // may be absent or wrong); Yoga's own counting stream is switched off (createApp).
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (request.method !== 'POST' || request.body == null) return;
      const type = request.headers.get('content-type') ?? '';
      if (!type.includes('json')) {
        // Other bodies Yoga understands (application/graphql, forms): bounded, then its own parser.
        if (!requestParser) return;
        const parse = requestParser;
        setRequestParser(async (req) => {
          const params = await parse(new fetchAPI.Request(req.url, { method: 'POST', headers: req.headers, body: await readLimited(req, LIMITS.maxBodyBytes) }));
          for (const p of (Array.isArray(params) ? params : [params]) as Array<{ variables?: unknown; extensions?: unknown } | null>) {
            if (valueDepthExceeds(p?.variables, LIMITS.maxJsonDepth) || valueDepthExceeds(p?.extensions, LIMITS.maxJsonDepth)) {
              throw httpError(tooDeepMessage(), 'BAD_REQUEST', 400);
            }
          }
          return params;
        });
        return;
      }
      setRequestParser(async (req) => {
        const text = await readLimited(req, LIMITS.maxBodyBytes);
        // the body's own object is one level more than its variables
        if (jsonDepthExceeds(text, LIMITS.maxJsonDepth + 1)) throw httpError(tooDeepMessage(), 'BAD_REQUEST', 400);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw httpError('The request body is not valid JSON', 'BAD_REQUEST', 400);
        }
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          throw httpError('The request body must be a JSON object with a "query"', 'BAD_REQUEST', 400);
        }
        return body as Record<string, never>;
      });
    },
    onExecute({ args, setResultAndStopExecution }) {
      const request = (args.contextValue as { request?: Request }).request;
      const state = request ? states.get(request) : undefined;
      // the token was accepted (the context has its viewer): it now passes a spent failure budget
      if (state?.credentials && (args.contextValue as { viewer?: { kind?: string } }).viewer?.kind !== 'anonymous') {
        limits.rememberPrincipal(state.key);
      }
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const cost = queryCost(args.schema, args.document, args.operationName, variables, listSizes());
      if (cost > LIMITS.maxCost) {
        setResultAndStopExecution({
          errors: [
            httpError(
              `This query may return ${cost} nodes; the limit is ${LIMITS.maxCost}. Ask for smaller pages (first/last) or fewer nested connections.`,
              'QUERY_TOO_COSTLY',
              400,
            ),
          ],
          extensions: { cost: { requested: cost, limit: LIMITS.maxCost } },
        });
        return;
      }
      return {
        onExecuteDone: async ({ result, setResult }) => {
          if (!('data' in result)) return;
          const actual = resultNodeCount(args.schema, args.document, args.operationName, result.data);
          if (state) {
            state.charged = true;
            // Charge what was asked for, in points (nodes / 100, at least 1), GitHub-style.
            state.rate = (await limits.charge(state.key, cost)) ?? state.rate;
          }
          setResult({
            ...result,
            extensions: { ...(result.extensions ?? {}), cost: { requested: cost, actual, limit: LIMITS.maxCost, points: pointsOf(cost) } },
          });
        },
      };
    },
    // A result served from the response cache runs no execution (above): it is
    // charged here, the cost it was computed with, as if it had run again.
    onResultProcess({ request, result }) {
      if (!result || Array.isArray(result)) return;
      const state = states.get(request);
      if (!state) return;
      // A token that failed authentication (401): charged to the address's failure budget.
      if (state.credentials && !state.failed && isUnauthenticated(result as { errors?: [] })) {
        if (state.key !== state.address) limits.forgetPrincipal(state.key);
        return limits.chargeFailure(state.address).then((failures) => {
          state.failed = { state: failures };
        });
      }
      if (!(result as Record<symbol, unknown>)[SERVED_FROM_CACHE]) {
        // An operation refused before it ran (document limits, cost, variables): 1 point, so that a refusal is not free to repeat.
        if (state.charged || state.failed) return;
        state.charged = true;
        return limits.charge(state.key, 1).then((rate) => {
          state.rate = rate ?? state.rate;
        });
      }
      const requested = (result as { extensions?: { cost?: { requested?: unknown } } }).extensions?.cost?.requested;
      return limits.charge(state.key, typeof requested === 'number' ? requested : 1).then((rate) => {
        state.rate = rate ?? state.rate;
      });
    },
    onResponse({ request, response }) {
      const state = states.get(request);
      if (!state) return;
      if (state.inFlight) {
        state.inFlight = false;
        const n = (inFlight.get(state.key) ?? 1) - 1;
        if (n <= 0) inFlight.delete(state.key);
        else inFlight.set(state.key, n);
      }
      const headers = state.failed ? limits.failureHeaders(state.failed.state) : rateHeaders(state.rate);
      for (const [name, value] of Object.entries(headers)) {
        if (!response.headers.has(name)) response.headers.set(name, value);
      }
    },
  };

  // Field suggestions ("Did you mean …?") help people exploring with a token,
  // but also map the schema for anonymous scrapers: hidden for them.
  const suggestions = blockFieldSuggestionsPlugin({ mask: '[Suggestion hidden]' });
  const anonymousSuggestions: Plugin = {
    onValidate(payload) {
      const request = (payload.context as { request?: Request }).request;
      if (request?.headers.get('authorization')) return;
      return (suggestions.onValidate as (p: typeof payload) => ReturnType<NonNullable<Plugin['onValidate']>>)(payload);
    },
  };

  // Every error carries a code: armor's limits and graphql-js's variable
  // coercion produce errors without one.
  const errorCodes: Plugin = {
    onResultProcess({ result, setResult }) {
      if (!result || typeof result !== 'object' || Array.isArray(result) || !('errors' in result) || !result.errors) return;
      const errors = result.errors.map((e) => {
        if (!(e instanceof GraphQLError)) return e;
        // graphql-jit words a bad variable "…; Expected type Date." and keeps the reason (a scalar's
        // BAD_USER_INPUT, e.g. a date out of range) only as the original error: said in the message too.
        const original = e.originalError;
        if (original instanceof GraphQLError && original.extensions?.code === 'BAD_USER_INPUT' && !e.message.includes(original.message)) {
          return new GraphQLError(`${e.message} ${original.message}`, {
            nodes: e.nodes,
            source: e.source,
            positions: e.positions,
            path: e.path,
            extensions: { ...e.extensions, code: 'BAD_USER_INPUT', http: e.extensions?.http ?? { status: 400 } },
          });
        }
        if (e.extensions?.code) return e;
        const status = (e.extensions?.http as { status?: number } | undefined)?.status;
        const code =
          status === 403 ? 'CSRF_PREVENTED' : e.message.startsWith('Variable "') ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED';
        return new GraphQLError(e.message, {
          nodes: e.nodes,
          source: e.source,
          positions: e.positions,
          path: e.path,
          extensions: { ...e.extensions, code, http: e.extensions?.http ?? { status: 400 } },
        });
      });
      setResult({ ...result, errors });
    },
  };

  return [
    errorCodes,
    gate,
    // before validation: a fragment bomb is refused in linear time, before anything walks it expanded
    maxExpandedFieldsPlugin({ n: LIMITS.maxFields }),
    maxTokensPlugin({ n: LIMITS.maxTokens }) as Plugin,
    maxAliasesPlugin({ n: LIMITS.maxAliases }) as Plugin,
    maxDirectivesPlugin({ n: LIMITS.maxDirectives }) as Plugin,
    maxDepthPlugin({ n: LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true }) as Plugin,
    anonymousSuggestions,
  ];
}
