import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { MAX_COST, queryCost, resultNodeCount } from '../graphql/cost.js';

/** The limits of the public API (README "Limits and errors" lists them). */
export const LIMITS = {
  maxTokens: 1_000,
  maxAliases: 15,
  maxDirectives: 50,
  maxDepth: 10,
  maxBodyBytes: 1_000_000,
  maxCost: MAX_COST,
} as const;

export interface RateLimitOptions {
  /** Points (query cost, at least 1 per request) per client per window. */
  points: number;
  /** Window in seconds. */
  durationSec: number;
  /** Requests a client may have in flight at once (per server process). */
  maxInFlight: number;
  /** Shared state for all server processes; per-process memory when absent. */
  redis?: Redis | null;
}

export interface LimitsOptions {
  rateLimit: RateLimitOptions;
  /** Take the client address from X-Forwarded-For (only behind a trusted proxy). */
  trustProxy: boolean;
}

/** Limits that never bite (tests, embedding, benchmarks): the same code runs, with budgets nobody reaches. */
export const NO_LIMITS: LimitsOptions = {
  rateLimit: { points: 1_000_000_000, durationSec: 3600, maxInFlight: 1_000_000 },
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

/** Who a request counts against: its token, else its address. */
export function clientKey(request: Request, serverContext: unknown, trustProxy: boolean): string {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return clientKeyOf((name) => request.headers.get(name), req?.socket?.remoteAddress, trustProxy);
}

/** `clientKey` over any request's headers (a fetch Request's, or node:http's before Yoga sees the request). */
export function clientKeyOf(header: (name: string) => string | null | undefined, remoteAddress: string | undefined, trustProxy: boolean): string {
  const auth = header('authorization');
  if (auth) return `token:${createHash('sha256').update(auth).digest('hex').slice(0, 24)}`;
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
  /** Charges `cost` points (at least 1) to a client; resolves with its state after the charge. */
  charge(key: string, cost: number): Promise<RateLimiterRes | undefined>;
  /** The `x-ratelimit-*` headers for a client's state (a full budget when unknown). */
  headers(state: RateLimiterRes | undefined): Record<string, string>;
  /**
   * For an answer that needs no work (a cached response): charges it when the
   * client has points left and no full quota of requests in flight, and
   * returns the headers to send; `null` when the request must be refused
   * (then Yoga's plugins answer it, with their 429).
   */
  admitCached(key: string, cost: number): Promise<Record<string, string> | null>;
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

/** Creates the rate limits of a process (one per server; give the same to createApp and the response tier). */
export function createRateLimits(options: LimitsOptions): RateLimits {
  const { rateLimit } = options;
  const memory = new RateLimiterMemory({ points: rateLimit.points, duration: rateLimit.durationSec, keyPrefix: 'rl' });
  // With Redis the budget is shared by all processes; if Redis fails, each
  // process falls back to its own in-memory budget (fail open, still limited).
  const limiter = rateLimit.redis
    ? new RateLimiterRedis({
        storeClient: rateLimit.redis,
        points: rateLimit.points,
        duration: rateLimit.durationSec,
        keyPrefix: 'llmp:rl',
        insuranceLimiter: memory,
      })
    : memory;
  const headers = (res: RateLimiterRes | undefined): Record<string, string> => {
    const remaining = res ? Math.max(0, res.remainingPoints) : rateLimit.points;
    const resetMs = res ? res.msBeforeNext : rateLimit.durationSec * 1000;
    return {
      'x-ratelimit-limit': String(rateLimit.points),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-used': String(rateLimit.points - remaining),
      'x-ratelimit-reset': String(Math.ceil((Date.now() + resetMs) / 1000)),
    };
  };
  // A charge beyond the budget still counts (GitHub-style: what was asked for is charged);
  // the rejection carries the state. A store failure leaves the state unknown.
  const charge = (key: string, cost: number) =>
    limiter.consume(key, Math.max(1, cost)).catch((res: unknown) =>
      res && typeof res === 'object' && 'remainingPoints' in res ? (res as RateLimiterRes) : undefined,
    );
  const inFlight = new Map<string, number>();
  const peek = async (key: string) => (await limiter.get(key).catch(() => null)) ?? undefined;
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
  };
}

/** How @graphql-yoga/plugin-response-cache marks a result it served from the cache. */
const SERVED_FROM_CACHE = Symbol.for('servedFromResponseCache');

interface RequestState {
  key: string;
  rate?: RateLimiterRes;
  inFlight: boolean;
}

/**
 * Plugins that reject absurd or abusive requests before any SQL runs:
 * graphql-armor's document limits, a body size limit, a cost limit that
 * reads variables, and per-client rate limits with x-ratelimit-* headers.
 */
export function limitsPlugins(options: LimitsOptions | RateLimits): Plugin[] {
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
      const key = clientKey(request, serverContext, trustProxy);
      const state: RequestState = { key, inFlight: false };
      states.set(request, state);
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
        setRequestParser(async (req) =>
          parse(new fetchAPI.Request(req.url, { method: 'POST', headers: req.headers, body: await readLimited(req, LIMITS.maxBodyBytes) })),
        );
        return;
      }
      setRequestParser(async (req) => {
        const text = await readLimited(req, LIMITS.maxBodyBytes);
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
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const cost = queryCost(args.schema, args.document, args.operationName, variables);
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
          const actual = resultNodeCount(result.data);
          if (state) {
            // Charge what was asked for (at least 1 point), GitHub-style.
            state.rate = (await limits.charge(state.key, cost)) ?? state.rate;
          }
          setResult({
            ...result,
            extensions: { ...(result.extensions ?? {}), cost: { requested: cost, actual, limit: LIMITS.maxCost } },
          });
        },
      };
    },
    // A result served from the response cache runs no execution (above): it is
    // charged here, the cost it was computed with, as if it had run again.
    onResultProcess({ request, result }) {
      if (!result || Array.isArray(result) || !(result as Record<symbol, unknown>)[SERVED_FROM_CACHE]) return;
      const state = states.get(request);
      if (!state) return;
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
      for (const [name, value] of Object.entries(rateHeaders(state.rate))) {
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
        if (!(e instanceof GraphQLError) || e.extensions?.code) return e;
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
    maxTokensPlugin({ n: LIMITS.maxTokens }) as Plugin,
    maxAliasesPlugin({ n: LIMITS.maxAliases }) as Plugin,
    maxDirectivesPlugin({ n: LIMITS.maxDirectives }) as Plugin,
    maxDepthPlugin({ n: LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true }) as Plugin,
    anonymousSuggestions,
  ];
}
