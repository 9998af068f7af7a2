import { useGraphQlJit } from '@envelop/graphql-jit';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { type ExecutionArgs, getOperationAST } from 'graphql';
import { type Plugin, type YogaServerInstance, createYoga } from 'graphql-yoga';
import { viewerFromRequest } from './auth/viewer.js';
import { type Context, createContext } from './graphql/context.js';
import { type Events, createEvents } from './events.js';
import type { Db } from './db/client.js';
import { type ListBounds, createListBounds } from './graphql/list-bounds.js';
import { schema, subgraphSchema } from './graphql/schema.js';
import { limitsPlugins } from './http/pipeline/limits.js';
import { type LimitsOptions, NO_LIMITS, type RateLimits, createRateLimits } from './http/pipeline/rate-limits.js';
import { graphiqlRoutes } from './http/routes/graphiql.js';
import { type Streams, createStreams } from './http/pipeline/streams.js';
import { maskError } from './http/pipeline/errors.js';
import { feedRoutes } from './http/routes/feeds.js';
import { markdownRoutes } from './http/routes/markdown.js';
import { mcpRoutes } from './http/routes/mcp.js';
import { readRouting } from './http/pipeline/read-routing.js';
import { securityHeaders } from './http/pipeline/security-headers.js';
import type { ReplicaSet } from './db/replicas.js';
import type { ResponseCache } from './http/pipeline/response-cache.js';
import { type Logger, recordMaskedError } from './observability/logging.js';

export interface AppDeps {
  db: Db;
  /** Event bus for subscriptions; in-process when omitted. */
  events?: Events;
  /**
   * Rate limits and proxy trust; when omitted, limits are effectively off (tests, embedding).
   * Pass the process's `createRateLimits(…)` when the response tier answers requests too (same budgets).
   */
  limits?: LimitsOptions | RateLimits;
  /** Allowed CORS origins; default `*` (without credentials). */
  corsOrigins?: string[];
  /** Plugins that must see every request, ahead of the limits (logging, metrics). */
  observability?: Plugin[];
  /** Plugins after the limits (persisted operations). */
  plugins?: Plugin[];
  /** Compile operations with graphql-jit (default on: faster on large nested results, BENCHMARKS.md). */
  jit?: boolean;
  /**
   * Sizes of plain lists for the cost analysis, refreshed after writes; the server passes the one its
   * change signal refreshes too. Made here (refreshed after this app's writes) when omitted.
   */
  listBounds?: ListBounds;
  /** Response cache for anonymous reads (off when omitted). */
  responseCache?: ResponseCache;
  /** Public base URL (PUBLIC_URL) for absolute links in feeds and Markdown; the request's origin when unset. */
  publicUrl?: string | undefined;
  /** Caps on subscription streams (STREAMS_PER_CLIENT, STREAMS_PER_PROCESS); counted but uncapped when omitted. */
  streams?: Streams;
  /** The server's logger, for what goes wrong outside a request's log line (GraphiQL's assets). */
  logger?: Logger;
  /** Serve the Apollo Federation subgraph schema (FEDERATION=on) instead of the plain one. */
  federation?: boolean;
  /** WEBHOOK_ALLOW_PRIVATE: webhook URLs may name loopback and private addresses (refused by default). */
  webhookAllowPrivate?: boolean;
  /** Read replicas (DATABASE_REPLICA_URLS): queries read there, with read-your-writes; `db` is the primary. */
  replicas?: ReplicaSet;
}

/** The query GraphiQL opens with: it works on the sample edition. */
export const DEFAULT_QUERY = `# Welcome to the archive of "Important LLM Papers for the Week".
# Press the run button (or Ctrl-Enter) to fetch the latest edition.
query LatestIssue {
  latestIssue {
    title
    weekStart
    weekEnd
    sections {
      number
      category { name slug }
      papers { number title arxivId }
    }
  }
}
`;

/** Example tabs GraphiQL opens with, next to the default query. */
export const EXAMPLE_TABS = [
  { query: DEFAULT_QUERY },
  {
    query: `# Full-text search with highlights and facets
query Search($q: String!) {
  searchPapers(query: $q, first: 10) {
    totalCount
    facets { category { name } count }
    edges {
      score
      node { number title issue { slug } }
      matches { field fragment highlights { start end } }
    }
  }
}
`,
    variables: JSON.stringify({ q: 'reward model' }, null, 2),
  },
  {
    query: `# A category page: follow pageInfo.endCursor with "after" for the next page
query CategoryPage($slug: String!, $after: String) {
  category(slug: $slug) {
    name
    paperCount
    papers(first: 10, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { number title issue { slug weekStart } }
    }
  }
}
`,
    variables: JSON.stringify({ slug: 'llm-reasoning', after: null }, null, 2),
  },
  {
    query: `# Cite a paper: BibTeX, and a reference in APA, IEEE or Chicago
query Cite($issue: String!, $number: String!) {
  paper(issue: $issue, number: $number) {
    title
    bibtex
    apa: citation
    ieee: citation(style: IEEE)
    chicago: citation(style: CHICAGO)
  }
}
`,
    variables: JSON.stringify({ issue: '2025-05-05', number: '2.3' }, null, 2),
  },
];

/**
 * Builds the HTTP application (a Yoga instance). It never listens: the server
 * entry point does, and tests call `app.fetch` directly.
 */
export function createApp(deps: AppDeps) {
  const events = deps.events ?? createEvents();
  const listBounds = deps.listBounds ?? createListBounds(deps.db);
  const routing = deps.replicas ? readRouting(deps.replicas, deps.db) : undefined;
  const onWrite = async () => {
    await Promise.all([deps.responseCache?.invalidate(), listBounds.refresh()]);
  };
  // One rate-limit state for the limits and GraphiQL's page and assets (charged to the same budgets).
  const limits = deps.limits && 'charge' in deps.limits ? deps.limits : createRateLimits(deps.limits ?? NO_LIMITS);
  const yoga: YogaServerInstance<Record<string, unknown>, Context> = createYoga<Record<string, unknown>, Context>({
    schema: deps.federation ? subgraphSchema() : schema,
    graphqlEndpoint: '/graphql',
    // A new context, with new loaders, per request. A bad token is a 401 here.
    context: async ({ request }) => {
      const viewer = await viewerFromRequest(deps.db, request);
      if (!routing) return createContext(deps.db, events, viewer, onWrite, deps.webhookAllowPrivate);
      const read = await routing.forRequest(request, viewer);
      return createContext(read.db, events, viewer, onWrite, deps.webhookAllowPrivate, read.routing);
    },
    // GraphiQL is served by graphiqlRoutes (below): a small page and cacheable, compressed assets
    // from @graphql-yoga/render-graphiql (Yoga's default page loads it from a CDN; that package's inlines 9 MB).
    graphiql: false,
    landingPage: false,
    // Request bodies are counted by limitsPlugins (once; Yoga's own limit would pipe every body through a second stream).
    maxRequestBodySize: false,
    // One operation per request: batching would multiply every limit below.
    batching: false,
    // Unexpected errors are masked (and logged with their request); an unreachable database is a clear, retryable 503.
    maskedErrors: { maskError: maskAndRecord },
    logging: false,
    cors: {
      origin: deps.corsOrigins ?? '*',
      credentials: false,
      maxAge: 600,
      // Browsers' scripts may read these: the request id to quote, the position to echo after a write.
      exposedHeaders: ['x-request-id', 'x-read-after'],
    },
    plugins: [
      // nosniff and a restrictive CSP on every response but GraphiQL's; first, so that what the response tier records has them.
      securityHeaders(),
      ...(deps.observability ?? []),
      // POST /mcp: each of its tools is a GraphQL request to this app (charged and limited as one).
      mcpRoutes(() => ({ fetch: (request, serverContext) => yoga.fetch(request, serverContext) })),
      graphiqlRoutes({
        page: { title: 'Important LLM Papers — GraphQL API', defaultQuery: DEFAULT_QUERY, defaultTabs: EXAMPLE_TABS },
        limits,
        logger: deps.logger,
      }),
      ...limitsPlugins(limits, listBounds.get),
      (deps.streams ?? createStreams()).plugin,
      ...(deps.plugins ?? []),
      // Browsers may only send "preflighted" requests: a form or a plain GET
      // from another site cannot run operations in a reader's browser.
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }),
      // Mutations and subscriptions on the primary; x-read-after on what wrote.
      ...(routing ? [routing.plugin as Plugin] : []),
      // Compiled execution: each distinct operation is compiled once to plain JS
      // (cached per document), which removes most of graphql-js's per-field overhead.
      // Queries only: subscriptions and mutations keep graphql-js (rare, and
      // graphql-jit's subscription support does not handle our async iterators).
      ...(deps.jit === false ? [] : [useGraphQlJit({}, { enableIf: isQueryOperation }) as Plugin]),
      // After the plugins that replace `execute` (graphql-jit), as the library asks: its
      // execute wrapper must run (misses are stored by it) — before, it warned on every miss.
      ...(deps.responseCache ? [deps.responseCache.plugin] : []),
      markdownRoutes(deps.db, { baseUrl: deps.publicUrl }),
      feedRoutes(deps.db, { baseUrl: deps.publicUrl }),
    ],
  });
  return yoga;
}

export type App = ReturnType<typeof createApp>;

/**
 * `maskError`, remembering what each "Unexpected error." hides for the
 * logging plugin (which knows the request; Yoga's masking does not). Errors
 * with a code of their own (503s, BAD_USER_INPUT…) are not unexpected.
 */
function maskAndRecord(error: unknown, message: string, isDev?: boolean): Error {
  const masked = maskError(error, message, isDev);
  if (masked !== error && (masked as { extensions?: Record<string, unknown> }).extensions?.unexpected === true)
    recordMaskedError(masked, error);
  return masked;
}

/** Whether the operation to run is a query (what graphql-jit compiles). */
function isQueryOperation(args: ExecutionArgs): boolean {
  const operation = getOperationAST(args.document, args.operationName);
  return operation?.operation === 'query';
}
