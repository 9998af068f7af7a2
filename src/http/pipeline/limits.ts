import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { RateLimiterRes } from 'rate-limiter-flexible';
import {
  type Credentials,
  WWW_AUTHENTICATE,
  parseAuthorization,
  principalKey,
  unauthenticatedMessage,
} from '../../auth/viewer.js';
import { MAX_COST, queryCost, resultNodeCount } from '../../graphql/cost.js';
import { maxExpandedFieldsPlugin } from '../../graphql/document-size.js';
import { type LimitsOptions, type RateLimits, addressKeyOf, createRateLimits, pointsOf } from './rate-limits.js';

/**
 * The request limits of the API, as Yoga plugins (`limitsPlugins`): document limits, body size and JSON
 * nesting, the cost of an operation, and the gate that charges each request to its client's rate limits
 * (rate-limits.ts).
 */

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

function httpError(message: string, code: string, status: number, headers: Record<string, string> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status, headers } } });
}

function jsonResponse(
  fetchAPI: { Response: typeof Response },
  status: number,
  message: string,
  code: string,
  headers: Record<string, string> = {},
) {
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** Reads a request body, refusing (413, a GraphQLError with code PAYLOAD_TOO_LARGE) beyond `limit` bytes whatever Content-Length says. */
export async function readLimited(request: Request, limit: number): Promise<string> {
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

/** What the gate's steps share: the limits, each request's state, the list sizes for the cost. */
interface Gate {
  limits: RateLimits;
  states: WeakMap<Request, RequestState>;
  listSizes: () => Readonly<Record<string, number>>;
}

type RequestParser = NonNullable<Parameters<NonNullable<Plugin['onRequestParse']>>[0]['requestParser']>;
type FetchAPI = { Response: typeof Response; Request: typeof Request };
type Result = {
  errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }>;
  extensions?: Record<string, unknown>;
};

const isUnauthenticated = (result: Result) =>
  result.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ?? false;

const retryAfter = (res: RateLimiterRes) => String(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));

/**
 * Step 1 of the gate: a body announced over the limit (413), JSON nested too deeply for anything downstream
 * that recurses (JSON.stringify of a cache key…) in GET parameters (400; POST bodies are checked as they are read).
 */
function refuseMalformed(request: Request, url: URL, fetchAPI: FetchAPI): Response | undefined {
  const length = Number(request.headers.get('content-length') ?? '0');
  if (length > LIMITS.maxBodyBytes) {
    return jsonResponse(
      fetchAPI,
      413,
      `The request body is larger than ${LIMITS.maxBodyBytes} bytes`,
      'PAYLOAD_TOO_LARGE',
    );
  }
  if (request.method === 'GET' && url.search) {
    for (const name of ['variables', 'extensions']) {
      if (url.searchParams.getAll(name).some((v) => jsonDepthExceeds(v, LIMITS.maxJsonDepth))) {
        return jsonResponse(fetchAPI, 400, tooDeepMessage(), 'BAD_REQUEST');
      }
    }
  }
  return undefined;
}

/** Step 2: who the request counts against (its state, kept until its response) and what it carries. */
function identify(
  gate: Gate,
  request: Request,
  serverContext: unknown,
): { state: RequestState; credentials: Credentials } {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  const header = (name: string) => request.headers.get(name);
  const address = addressKeyOf(header, req?.socket?.remoteAddress, gate.limits.options.trustProxy);
  const credentials = parseAuthorization(header('authorization'));
  const key = credentials.kind === 'bearer' ? principalKey(credentials.token) : address;
  const state: RequestState = { key, address, credentials: credentials.kind !== 'none', inFlight: false };
  gate.states.set(request, state);
  return { state, credentials };
}

/**
 * Step 3: failed authentications are charged to the address, in a budget of their own. Once it is spent, a
 * token is not even looked up (429) — unless it was accepted lately (an editor behind the same address as a
 * scanner keeps working). A header that is present but not "Bearer <token>" (empty, another scheme): 401 at
 * once, no lookup.
 */
async function refuseCredentials(gate: Gate, state: RequestState, credentials: Credentials, fetchAPI: FetchAPI) {
  if (credentials.kind === 'none') return undefined;
  const { limits } = gate;
  const failures = await limits.peekFailures(state.address);
  if (
    failures &&
    failures.remainingPoints <= 0 &&
    !(credentials.kind === 'bearer' && (await limits.isKnownPrincipal(state.key)))
  ) {
    state.failed = { state: failures };
    return jsonResponse(
      fetchAPI,
      429,
      'Too many failed authentications from your address; see the Retry-After header',
      'RATE_LIMITED',
      {
        'retry-after': retryAfter(failures),
      },
    );
  }
  if (credentials.kind === 'invalid') {
    state.failed = { state: await limits.chargeFailure(state.address) };
    return jsonResponse(fetchAPI, 401, unauthenticatedMessage(credentials.reason), 'UNAUTHENTICATED', {
      'www-authenticate': WWW_AUTHENTICATE,
    });
  }
  return undefined;
}

/** Step 4: a slot among the client's requests in flight (429 when all are taken), then its budget (429 when spent). */
async function takeSlot(gate: Gate, state: RequestState, fetchAPI: FetchAPI): Promise<Response | undefined> {
  const { limits } = gate;
  const { maxInFlight } = limits.options.rateLimit;
  const current = limits.inFlight.get(state.key) ?? 0;
  if (current >= maxInFlight) {
    return jsonResponse(fetchAPI, 429, `Too many requests in flight (at most ${maxInFlight} at once)`, 'RATE_LIMITED', {
      'retry-after': '1',
    });
  }
  // take the slot before waiting for anything, so that a burst cannot overtake the check
  limits.inFlight.set(state.key, current + 1);
  state.inFlight = true;
  state.rate = await limits.peek(state.key);
  if (state.rate && state.rate.remainingPoints <= 0) {
    return jsonResponse(
      fetchAPI,
      429,
      'The rate limit is exhausted; see the x-ratelimit-reset header',
      'RATE_LIMITED',
      {
        'retry-after': retryAfter(state.rate),
        ...limits.headers(state.rate),
      },
    );
  }
  return undefined;
}

/** A POST body that is JSON: read with its bytes counted, its nesting bounded, then parsed (an object, "query"…). */
async function parseJsonBody(req: Request): Promise<Record<string, never>> {
  return parseJsonText(await readLimited(req, LIMITS.maxBodyBytes));
}

/**
 * A body node:http frames by its Content-Length (at most the limit, checked in onRequest; node:http refuses a
 * request that also says `Transfer-Encoding`, and reads no byte past the length): read whole, without a stream
 * reader and its async iterator (BENCHMARKS.md, the tenth note).
 */
async function parseFramedJsonBody(req: Request): Promise<Record<string, never>> {
  return parseJsonText(await req.text());
}

/** Whether node:http frames this request's body: it came through node:http with a Content-Length within the limit. */
function isFramed(request: Request, serverContext: unknown): boolean {
  if (!(serverContext as { req?: { socket?: unknown } } | undefined)?.req?.socket) return false;
  const length = request.headers.get('content-length');
  return length !== null && /^\d{1,9}$/.test(length) && Number(length) <= LIMITS.maxBodyBytes;
}

function parseJsonText(text: string): Record<string, never> {
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
}

/** Other bodies Yoga understands (application/graphql, forms): read bounded, Yoga's own parser, the nesting checked. */
function boundedParser(parse: RequestParser, fetchAPI: FetchAPI): RequestParser {
  return async (req) => {
    const body = await readLimited(req, LIMITS.maxBodyBytes);
    const params = await parse(new fetchAPI.Request(req.url, { method: 'POST', headers: req.headers, body }));
    for (const p of (Array.isArray(params) ? params : [params]) as Array<{
      variables?: unknown;
      extensions?: unknown;
    } | null>) {
      if (
        valueDepthExceeds(p?.variables, LIMITS.maxJsonDepth) ||
        valueDepthExceeds(p?.extensions, LIMITS.maxJsonDepth)
      ) {
        throw httpError(tooDeepMessage(), 'BAD_REQUEST', 400);
      }
    }
    return params;
  };
}

/** The refusal of a query that may return more than `LIMITS.maxCost` nodes. */
function tooCostly(cost: number) {
  return {
    errors: [
      httpError(
        `This query may return ${cost} nodes; the limit is ${LIMITS.maxCost}. Ask for smaller pages (first/last) or fewer nested connections.`,
        'QUERY_TOO_COSTLY',
        400,
      ),
    ],
    extensions: { cost: { requested: cost, limit: LIMITS.maxCost } },
  };
}

/**
 * Step 5, before execution: the cost of the operation from its variables; over the limit it does not run.
 * Once it ran, what was asked for is charged (`pointsOf(cost)`, GitHub-style) and the result says what it cost.
 */
const costStep =
  (gate: Gate): NonNullable<Plugin['onExecute']> =>
  ({ args, setResultAndStopExecution }) => {
    const context = args.contextValue as { request?: Request; viewer?: { kind?: string } };
    const state = context.request ? gate.states.get(context.request) : undefined;
    // the token was accepted (the context has its viewer): it now passes a spent failure budget
    if (state?.credentials && context.viewer?.kind !== 'anonymous') gate.limits.rememberPrincipal(state.key);
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const cost = queryCost(args.schema, args.document, args.operationName, variables, gate.listSizes());
    if (cost > LIMITS.maxCost) {
      setResultAndStopExecution(tooCostly(cost));
      return;
    }
    return {
      onExecuteDone: async ({ result, setResult }) => {
        if (!('data' in result)) return;
        const actual = resultNodeCount(args.schema, args.document, args.operationName, result.data);
        if (state) {
          state.charged = true;
          state.rate = (await gate.limits.charge(state.key, cost)) ?? state.rate;
        }
        setResult({
          ...result,
          extensions: {
            ...(result.extensions ?? {}),
            cost: { requested: cost, actual, limit: LIMITS.maxCost, points: pointsOf(cost) },
          },
        });
      },
    };
  };

/**
 * Step 6, on the result: what ran no execution is charged here. A token that failed authentication (401):
 * the address's failure budget. An operation refused before it ran (document limits, cost, variables): 1 point,
 * so that a refusal is not free to repeat. A result served from the response cache: the cost it was computed
 * with, as if it had run again.
 */
function chargeResult(limits: RateLimits, state: RequestState, result: Result): Promise<void> | undefined {
  if (state.credentials && !state.failed && isUnauthenticated(result)) {
    if (state.key !== state.address) limits.forgetPrincipal(state.key);
    return limits.chargeFailure(state.address).then((failures) => {
      state.failed = { state: failures };
    });
  }
  let cost = 1;
  if ((result as Record<symbol, unknown>)[SERVED_FROM_CACHE]) {
    const requested = (result.extensions?.cost as { requested?: unknown } | undefined)?.requested;
    if (typeof requested === 'number') cost = requested;
  } else {
    if (state.charged || state.failed) return undefined;
    state.charged = true;
  }
  return limits.charge(state.key, cost).then((rate) => {
    state.rate = rate ?? state.rate;
  });
}

/** Step 7, on the response: the slot in flight given back, the budget's x-ratelimit-* headers added. */
function finishRequest(limits: RateLimits, state: RequestState, response: Response): void {
  if (state.inFlight) {
    state.inFlight = false;
    const n = (limits.inFlight.get(state.key) ?? 1) - 1;
    if (n <= 0) limits.inFlight.delete(state.key);
    else limits.inFlight.set(state.key, n);
  }
  const headers = state.failed ? limits.failureHeaders(state.failed.state) : limits.headers(state.rate);
  for (const [name, value] of Object.entries(headers)) {
    if (!response.headers.has(name)) response.headers.set(name, value);
  }
}

/** The gate: the steps above, on the requests to /graphql (GET and POST). */
function gatePlugin(gate: Gate): Plugin {
  return {
    async onRequest({ request, url, serverContext, endResponse, fetchAPI }) {
      if (url.pathname !== '/graphql' || (request.method !== 'POST' && request.method !== 'GET')) return;
      const malformed = refuseMalformed(request, url, fetchAPI);
      if (malformed) {
        endResponse(malformed);
        return;
      }
      const { state, credentials } = identify(gate, request, serverContext);
      const refusal =
        (await refuseCredentials(gate, state, credentials, fetchAPI)) ?? (await takeSlot(gate, state, fetchAPI));
      if (refusal) endResponse(refusal);
    },
    // Every POST body is read here, its bytes counted as they arrive unless node:http frames it (Content-Length
    // may be absent, or wrong outside node:http); Yoga's own counting stream is switched off (createApp).
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI, serverContext }) {
      if (request.method !== 'POST' || request.body == null) return;
      if ((request.headers.get('content-type') ?? '').includes('json'))
        setRequestParser(isFramed(request, serverContext) ? parseFramedJsonBody : parseJsonBody);
      else if (requestParser) setRequestParser(boundedParser(requestParser, fetchAPI));
    },
    onExecute: costStep(gate),
    onResultProcess({ request, result }) {
      if (!result || Array.isArray(result)) return;
      const state = gate.states.get(request);
      return state ? chargeResult(gate.limits, state, result as Result) : undefined;
    },
    onResponse({ request, response }) {
      const state = gate.states.get(request);
      if (state) finishRequest(gate.limits, state, response);
    },
  };
}

/**
 * Field suggestions ("Did you mean …?") help people exploring with a token,
 * but also map the schema for anonymous scrapers: hidden for them.
 */
function anonymousSuggestionsPlugin(): Plugin {
  const suggestions = blockFieldSuggestionsPlugin({ mask: '[Suggestion hidden]' });
  return {
    onValidate(payload) {
      const request = (payload.context as { request?: Request }).request;
      if (request?.headers.get('authorization')) return;
      return (suggestions.onValidate as (p: typeof payload) => ReturnType<NonNullable<Plugin['onValidate']>>)(payload);
    },
  };
}

/** The same error with other extensions (and, when given, another message). */
function withExtensions(e: GraphQLError, extensions: Record<string, unknown>, message = e.message): GraphQLError {
  return new GraphQLError(message, {
    nodes: e.nodes,
    source: e.source,
    positions: e.positions,
    path: e.path,
    extensions,
  });
}

/** An error with a code: armor's limits and graphql-js's variable coercion produce errors without one. */
function withCode(e: GraphQLError): GraphQLError {
  const http = e.extensions?.http ?? { status: 400 };
  // graphql-jit words a bad variable "…; Expected type Date." and keeps the reason (a scalar's
  // BAD_USER_INPUT, e.g. a date out of range) only as the original error: said in the message too.
  const original = e.originalError;
  if (
    original instanceof GraphQLError &&
    original.extensions?.code === 'BAD_USER_INPUT' &&
    !e.message.includes(original.message)
  ) {
    return withExtensions(e, { ...e.extensions, code: 'BAD_USER_INPUT', http }, `${e.message} ${original.message}`);
  }
  if (e.extensions?.code) return e;
  const status = (e.extensions?.http as { status?: number } | undefined)?.status;
  const code =
    status === 403
      ? 'CSRF_PREVENTED'
      : e.message.startsWith('Variable "')
        ? 'BAD_USER_INPUT'
        : 'GRAPHQL_VALIDATION_FAILED';
  return withExtensions(e, { ...e.extensions, code, http });
}

/** Every error of a result carries a code. */
function errorCodesPlugin(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (!result || typeof result !== 'object' || Array.isArray(result) || !('errors' in result) || !result.errors)
        return;
      setResult({ ...result, errors: result.errors.map((e) => (e instanceof GraphQLError ? withCode(e) : e)) });
    },
  };
}

/** graphql-armor's document limits (tokens, aliases, directives, depth). */
function documentLimitsPlugins(): Plugin[] {
  return [
    maxTokensPlugin({ n: LIMITS.maxTokens }) as Plugin,
    maxAliasesPlugin({ n: LIMITS.maxAliases }) as Plugin,
    maxDirectivesPlugin({ n: LIMITS.maxDirectives }) as Plugin,
    maxDepthPlugin({ n: LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true }) as Plugin,
  ];
}

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
  return [
    errorCodesPlugin(),
    gatePlugin({ limits, states: new WeakMap(), listSizes }),
    // before validation: a fragment bomb is refused in linear time, before anything walks it expanded
    maxExpandedFieldsPlugin({ n: LIMITS.maxFields }),
    ...documentLimitsPlugins(),
    anonymousSuggestionsPlugin(),
  ];
}
