import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';

/**
 * The response tier of the response cache: the exact bytes of anonymous
 * GraphQL responses that the result cache (src/http/pipeline/response-cache.ts) holds,
 * answered straight from node:http, before graphql-yoga parses the request.
 *
 * Yoga's HTTP layer alone (a fetch Request in, a Response out) costs several
 * times what node:http does for a small response: a cache hit inside Yoga
 * cannot go below it (BENCHMARKS.md has the measurements).
 *
 * What it answers, and what stays Yoga's:
 * - GET and POST on /graphql without `Authorization` (any, even empty: the
 *   server answers those, 401 or not), `If-None-Match` or
 *   `If-Modified-Since` (304s stay Yoga's), a POST body of at most
 *   `MAX_BODY_BYTES` with a Content-Length. Everything else goes to Yoga untouched.
 * - The key is the method, the URL, the body and every request header that
 *   can change a response (Host, Accept, Content-Type, Origin, the CSRF header,
 *   X-Forwarded-Host/Proto; absent and empty differ): a response is replayed
 *   only for a request that would have produced it, CORS headers included.
 *   Requests with Access-Control-Request-* headers (which CORS echoes) go to Yoga.
 * - Only responses Yoga served from the result cache (status 200, the
 *   result's `ETag`) are recorded — the second time a read is asked for, not
 *   the first — with the cache generation of that result and its expiry
 *   (`Last-Modified` + TTL). One is served only while the
 *   generation is current — every write bumps it, across processes with
 *   Redis — so it is never older than the last write, like the result cache.
 * - Per request, the server still applies its rate limits (`admit`: the
 *   cost the result was computed with is charged; a client out of points or
 *   with too many requests in flight goes to Yoga, which answers 429), gives
 *   a request id, and logs and counts it (`onServed`).
 */

/** POST bodies larger than this (or without a Content-Length) always go to Yoga. */
export const MAX_BODY_BYTES = 8 * 1024;

const GRAPHQL_PATH = '/graphql';

/** How @graphql-yoga/plugin-response-cache marks a result it served from the cache. */
const SERVED_FROM_CACHE = Symbol.for('servedFromResponseCache');

/** Headers that differ per request: never recorded, made again for every answer. */
const PER_REQUEST_HEADERS =
  /^(x-request-id|x-ratelimit-.*|date|connection|keep-alive|transfer-encoding|content-length)$/;

/** What the tier reports about a request it answered (for logs and metrics). */
export interface TierServed {
  requestId: string | undefined;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  operationName: string | null;
  operationType: string | null;
  /** The cost (nodes) the result was computed with; charged as the same points as Yoga charges (`pointsOf`, src/http/pipeline/rate-limits.ts). */
  cost: number;
}

/** What the server does for each request the tier answers. */
export interface ResponseTierHooks {
  /** Rate limits: the headers to add once a result of `cost` nodes is charged (its points), or null to let Yoga answer (429). Absent: admitted. */
  admit?: (req: IncomingMessage, cost: number) => Promise<Record<string, string> | null>;
  /** The response's `x-request-id` (absent: none, as Yoga without the logging plugin). */
  requestId?: (req: IncomingMessage) => string;
  onServed?: (served: TierServed) => void;
}

export interface ResponseTierOptions {
  /** The result cache's generation now ('unavailable' serves nothing). */
  generation: () => Promise<string>;
  /** The generation a result-cache ETag was made in; null when it is not one of ours. */
  generationOfETag: (etag: string) => string | null;
  /** How long a result may be served (the result cache's TTL). */
  ttlMs: number;
  /** Bytes of recorded responses (keys and bodies) kept in memory; least recently used go first. Default 32 MiB. */
  maxBytes?: number;
}

interface Entry {
  generation: string;
  expiresAt: number;
  headers: Record<string, string>;
  /** Size of the header names and values, for the memory bound. */
  headerBytes: number;
  body: Buffer;
  cost: number;
  operationName: string | null;
  operationType: string | null;
}

export interface ResponseTier {
  /** A node:http request listener: answers from the tier, or passes the request on to `next` (Yoga). */
  handler(
    next: (req: IncomingMessage, res: ServerResponse) => unknown,
    hooks?: ResponseTierHooks,
  ): (req: IncomingMessage, res: ServerResponse) => void;
  /** The Yoga plugin that records responses (part of the response cache's plugin). */
  plugin: Plugin;
  /** Forgets every recorded response (after a write; the generation alone would make them unreachable). */
  clear(): void;
  /** Recorded responses, for tests and metrics. */
  readonly size: number;
}

/** A header's value in a key: absent and empty differ ('\0' cannot be in a header value). */
const part = (value: string | string[] | undefined) =>
  value === undefined ? '\0' : Array.isArray(value) ? value.join('\n') : value;

/** The part of the key every request has: method, URL and the headers a response depends on; null when the tier must not answer. */
function keyOf(req: IncomingMessage): string | null {
  const h = req.headers;
  if (
    h.authorization !== undefined ||
    h['if-none-match'] !== undefined ||
    h['if-modified-since'] !== undefined ||
    h.upgrade !== undefined ||
    // CORS echoes these into its headers (browsers send them on preflights only)
    h['access-control-request-method'] !== undefined ||
    h['access-control-request-headers'] !== undefined
  ) {
    return null;
  }
  const url = req.url ?? '';
  if (url !== GRAPHQL_PATH && !url.startsWith(`${GRAPHQL_PATH}?`)) return null;
  return `${req.method} ${url}\n${part(h.host)}\n${part(h.accept)}\n${part(h['content-type'])}\n${part(h.origin)}\n${part(
    h['x-graphql-yoga-csrf'] === undefined ? undefined : 'csrf',
  )}\n${part(h['x-forwarded-host'])}\n${part(h['x-forwarded-proto'])}\n`;
}

/** The operation's name and type, for logs (once per recorded response). */
function operationOf(query: unknown, operationName: unknown): { name: string | null; type: string | null } {
  const name = typeof operationName === 'string' ? operationName : null;
  if (typeof query !== 'string') return { name, type: null };
  try {
    const operation = getOperationAST(parse(query), name);
    return { name: operation?.name?.value ?? name, type: operation?.operation ?? null };
  } catch {
    return { name, type: null };
  }
}

/** What the recorder and the handler share. */
interface TierState {
  options: ResponseTierOptions;
  entries: LRUCache<string, Entry>;
  /** The key of each request passed on to Yoga, for the recorder. */
  keys: WeakMap<IncomingMessage, string>;
  params: WeakMap<Request, { query?: unknown; operationName?: unknown }>;
  /** Requests Yoga answered from the result cache, with the cost their result was computed with. */
  hits: WeakMap<Request, number>;
}

type Next = (req: IncomingMessage, res: ServerResponse) => unknown;

/** The headers of a response to record: those that do not differ per request. */
function recordedHeaders(response: Response): { headers: Record<string, string>; headerBytes: number } {
  const headers: Record<string, string> = {};
  let headerBytes = 0;
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    if (PER_REQUEST_HEADERS.test(lower)) continue;
    headers[lower] = value;
    headerBytes += lower.length + value.length;
  }
  return { headers, headerBytes };
}

/**
 * The entry for a response Yoga made, or null when it is not to be recorded: only a 200 of a result the
 * result cache served (a response asked for at least twice: one-off reads never push repeated ones out of the
 * tier's memory), with an ETag of ours, not expired, not a stream.
 */
async function entryOf(state: TierState, request: Request, response: Response): Promise<Entry | null> {
  const cost = state.hits.get(request);
  if (cost === undefined || response.status !== 200) return null;
  const etag = response.headers.get('etag');
  const generation = etag ? state.options.generationOfETag(etag) : null;
  if (generation === null) return null; // not a result the result cache holds (errors, or not cacheable)
  const expiresAt = Date.parse(response.headers.get('last-modified') ?? '') + state.options.ttlMs;
  if (!(expiresAt > Date.now())) return null;
  const { headers, headerBytes } = recordedHeaders(response);
  if ((headers['content-type'] ?? '').includes('event-stream')) return null;
  const body = Buffer.from(await response.clone().text(), 'utf8');
  headers['content-length'] = String(body.length);
  const p = state.params.get(request);
  const operation = operationOf(p?.query, p?.operationName);
  return {
    generation,
    expiresAt,
    headers,
    headerBytes,
    body,
    cost,
    operationName: operation.name,
    operationType: operation.type,
  };
}

/** The recorder, inside Yoga: notes each request's parameters and cache hits, records the responses to replay. */
function recorderPlugin(state: TierState): Plugin {
  return {
    onParams({ request, params }) {
      state.params.set(request, params);
    },
    onResultProcess({ request, result }) {
      if (!result || Array.isArray(result) || !(result as Record<symbol, unknown>)[SERVED_FROM_CACHE]) return;
      const requested = (result as { extensions?: { cost?: { requested?: unknown } } }).extensions?.cost?.requested;
      state.hits.set(request, typeof requested === 'number' ? requested : 1);
    },
    async onResponse({ request, response, serverContext }) {
      if (!state.hits.has(request)) return;
      const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
      const key = req && state.keys.get(req);
      if (!key) return;
      const entry = await entryOf(state, request, response);
      if (entry) state.entries.set(key, entry);
    },
  };
}

/** A recorded response still servable: not expired, of the current generation (never recorded in 'unavailable'). */
async function currentEntry(state: TierState, key: string): Promise<Entry | undefined> {
  const entry = state.entries.get(key);
  return entry && entry.expiresAt > Date.now() && (await state.options.generation()) === entry.generation
    ? entry
    : undefined;
}

/** Writes a recorded response (with the limits' headers and a request id) and reports it. */
function replay(
  req: IncomingMessage,
  res: ServerResponse,
  entry: Entry,
  extra: Record<string, string>,
  hooks: ResponseTierHooks,
  start: number,
) {
  const requestId = hooks.requestId?.(req);
  res.writeHead(
    200,
    requestId === undefined
      ? { ...entry.headers, ...extra }
      : { ...entry.headers, ...extra, 'x-request-id': requestId },
  );
  res.end(entry.body);
  hooks.onServed?.({
    requestId,
    method: req.method!,
    path: GRAPHQL_PATH,
    status: 200,
    durationMs: Math.round((performance.now() - start) * 100) / 100,
    operationName: entry.operationName,
    operationType: entry.operationType,
    cost: entry.cost,
  });
}

/** Reads a small POST body (it must be part of the key), then calls `then` with it. */
function readBody(req: IncomingMessage, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  // a client that goes away mid-body: nothing to answer (the socket is gone)
  req.once('error', () => {});
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => then(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

/** The node:http listener: a request the tier may answer is looked up (replayed when admitted); the rest go to `next`. */
function tierHandler(
  state: TierState,
  next: Next,
  hooks: ResponseTierHooks,
): (req: IncomingMessage, res: ServerResponse) => void {
  const pass = (req: IncomingMessage, res: ServerResponse, key: string, body: Buffer | undefined) => {
    // The body was read here: the adapter takes it from `req.body` (as behind a body parser).
    if (body) (req as IncomingMessage & { body?: Buffer }).body = body;
    state.keys.set(req, key);
    void next(req, res);
  };
  const serveOrPass = async (
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    body: Buffer | undefined,
    start: number,
  ) => {
    const entry = await currentEntry(state, key);
    const extra = entry && (hooks.admit ? await hooks.admit(req, entry.cost) : {});
    if (entry && extra) replay(req, res, entry, extra, hooks, start);
    else pass(req, res, key, body);
  };
  // A failure of the tier itself (a hook that throws) is a miss: Yoga answers.
  const serve = (req: IncomingMessage, res: ServerResponse, key: string, body: Buffer | undefined, start: number) =>
    serveOrPass(req, res, key, body, start).catch(() => {
      if (!res.headersSent) pass(req, res, key, body);
    });

  return (req, res) => {
    const start = performance.now();
    const base = req.method === 'GET' || req.method === 'POST' ? keyOf(req) : null;
    if (base === null) {
      void next(req, res);
    } else if (req.method === 'GET') {
      void serve(req, res, base, undefined, start);
    } else if (hasSmallBody(req)) {
      readBody(req, (body) => void serve(req, res, base + body.toString('latin1'), body, start));
    } else {
      void next(req, res);
    }
  };
}

/** A POST body the tier reads: announced by a Content-Length of at most MAX_BODY_BYTES, not chunked. */
function hasSmallBody(req: IncomingMessage): boolean {
  const length = Number(req.headers['content-length']);
  return length > 0 && length <= MAX_BODY_BYTES && req.headers['transfer-encoding'] === undefined;
}

export function createResponseTier(options: ResponseTierOptions): ResponseTier {
  const state: TierState = {
    options,
    entries: new LRUCache<string, Entry>({
      maxSize: options.maxBytes ?? 32 * 1024 * 1024,
      sizeCalculation: (entry, key) => key.length + entry.body.length + entry.headerBytes + 256,
    }),
    keys: new WeakMap(),
    params: new WeakMap(),
    hits: new WeakMap(),
  };
  return {
    handler: (next, hooks = {}) => tierHandler(state, next, hooks),
    plugin: recorderPlugin(state),
    clear: () => state.entries.clear(),
    get size() {
      return state.entries.size;
    },
  };
}
