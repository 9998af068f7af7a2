import { timingSafeEqual } from 'node:crypto';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface DbPoolStats {
  /** Connections open (in use + idle). */
  total: number;
  /** Connections open and unused. */
  idle: number;
  /** Requests waiting for a connection. */
  waiting: number;
}

export interface MetricsOptions {
  /** The registry to fill and serve; a new one when absent (never prom-client's global one). */
  registry?: Registry;
  /** Path of the Prometheus text endpoint; default `/metrics`. `false`: no endpoint. */
  endpoint?: string | false;
  /** The database pool's numbers (pg: totalCount, idleCount, waitingCount); no pool gauges when absent. */
  dbPool?: () => DbPoolStats;
  /** Node.js process metrics (memory, event loop lag, GC…); default true. */
  processMetrics?: boolean;
  /** When set, scrapes must send `Authorization: Bearer <this>` (else 401); open when absent. */
  bearerToken?: string | undefined;
  /** Subscription streams open now (src/http/pipeline/streams.ts); no gauge when absent. */
  openStreams?: () => number;
  /** The read replicas' state (DATABASE_REPLICA_URLS); no replica gauges when absent. */
  replicas?: () => Array<{ name: string; healthy: boolean; lagMs: number | null }>;
}

/** Metric names (README "Observability" lists them). */
export const METRIC_NAMES = {
  requests: 'graphql_envelop_request',
  requestDuration: 'graphql_envelop_request_duration',
  httpDuration: 'graphql_yoga_http_duration',
  errorsByCode: 'graphql_errors_total',
  cacheHits: 'graphql_response_cache_hits_total',
  dbPoolTotal: 'db_pool_connections_total',
  dbPoolIdle: 'db_pool_connections_idle',
  dbPoolWaiting: 'db_pool_requests_waiting',
  openStreams: 'graphql_streams_open',
  replicaInRotation: 'db_replica_in_rotation',
  replicaLag: 'db_replica_lag_milliseconds',
  softLimitCollections: 'memory_soft_limit_collections_total',
} as const;

/** Per replica: in rotation (1) or not (0), and its estimated lag. */
function replicaGauges(
  registry: Registry,
  read: () => Array<{ name: string; healthy: boolean; lagMs: number | null }>,
): void {
  new Gauge({
    name: METRIC_NAMES.replicaInRotation,
    help: 'Whether a read replica receives reads (1) or is out of rotation (down, or lagging too much)',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      for (const r of read()) this.set({ replica: r.name }, r.healthy ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.replicaLag,
    help: 'Estimated replication lag of a read replica (how long ago the primary was where it is now)',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      for (const r of read()) if (r.lagMs !== null) this.set({ replica: r.name }, r.lagMs);
    },
  });
}

/**
 * Gauges of the database pool, read at each scrape: total and idle
 * connections, and requests waiting for one.
 */
export function dbPoolGauges(registry: Registry, getStats: () => DbPoolStats): void {
  const gauge = (name: string, help: string, pick: (s: DbPoolStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(getStats()));
      },
    });
  gauge(METRIC_NAMES.dbPoolTotal, 'Open connections of the database pool (in use and idle)', (s) => s.total);
  gauge(METRIC_NAMES.dbPoolIdle, 'Idle connections of the database pool', (s) => s.idle);
  gauge(METRIC_NAMES.dbPoolWaiting, 'Requests waiting for a connection of the database pool', (s) => s.waiting);
}

/** The gauge of open subscription streams (SSE), read at each scrape. */
export function openStreamsGauge(registry: Registry, open: () => number): void {
  new Gauge({
    name: METRIC_NAMES.openStreams,
    help: 'Subscription streams (Server-Sent Events) open in this process',
    registers: [registry],
    collect() {
      this.set(open());
    },
  });
}

/** How @graphql-yoga/plugin-response-cache marks a result it served from the cache. */
const SERVED_FROM_CACHE = Symbol.for('servedFromResponseCache');

/**
 * Counts a request the response tier answered (before Yoga, so no plugin saw
 * it) in the registry given to `metricsPlugins`.
 */
export function countResponseTierHit(registry: Registry, operationName: string | null): void {
  const counter = registry.getSingleMetric(METRIC_NAMES.cacheHits) as Counter<'tier' | 'operationName'> | undefined;
  counter?.inc({ tier: 'response', operationName: labelValue(operationName, 'Anonymous') });
}

/** The counter of full collections made by the memory soft limit (MEMORY_SOFT_LIMIT_MB), made at 0 when it starts. */
export function softLimitCollections(registry: Registry): Counter {
  return (
    (registry.getSingleMetric(METRIC_NAMES.softLimitCollections) as Counter | undefined) ??
    new Counter({
      name: METRIC_NAMES.softLimitCollections,
      help: 'Full garbage collections asked for because resident memory was above MEMORY_SOFT_LIMIT_MB',
      registers: [registry],
    })
  );
}

/** Keeps label values bounded: operation names are client-chosen. */
function labelValue(value: string | undefined | null, fallback: string): string {
  if (!value) return fallback;
  return /^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(value) ? value : 'invalid';
}

/**
 * Prometheus metrics on `/metrics`: GraphQL requests and their durations by
 * operation name and type (@graphql-yoga/plugin-prometheus), HTTP durations by
 * operation, method and status, a counter of errors by `extensions.code` and
 * operation (`graphql_errors_total`, every error of every response, including
 * those produced before execution such as rate limits or persisted-operation
 * rejections), the database pool gauges, open subscription streams, and the Node.js process metrics.
 */
export function metricsPlugins(options: MetricsOptions = {}): Plugin[] {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  if (options.dbPool) dbPoolGauges(registry, options.dbPool);
  if (options.openStreams) openStreamsGauge(registry, options.openStreams);
  if (options.replicas) replicaGauges(registry, options.replicas);

  const errors = new Counter({
    name: METRIC_NAMES.errorsByCode,
    help: 'GraphQL errors in responses, by extensions.code and operation name',
    labelNames: ['code', 'operationName'] as const,
    registers: [registry],
  });
  const cacheHits = new Counter({
    name: METRIC_NAMES.cacheHits,
    help: 'Requests answered by the response cache, by tier (result: inside Yoga; response: before it) and operation name',
    labelNames: ['tier', 'operationName'] as const,
    registers: [registry],
  });
  const operationNames = new WeakMap<Request, string>();

  const errorsByCode: Plugin = {
    onParams({ request, params }) {
      if (params.operationName) operationNames.set(request, params.operationName);
    },
    onParse({ context }) {
      const request = (context as { request?: Request }).request;
      return ({ result }) => {
        if (!request || result instanceof Error || !result || typeof result !== 'object' || !('kind' in result)) return;
        const name = getOperationAST(result, (context as { params?: { operationName?: string } }).params?.operationName)
          ?.name?.value;
        if (name) operationNames.set(request, name);
      };
    },
    onResultProcess({ request, result }) {
      if (result && !Array.isArray(result) && (result as Record<symbol, unknown>)[SERVED_FROM_CACHE]) {
        cacheHits.inc({ tier: 'result', operationName: labelValue(operationNames.get(request), 'Anonymous') });
      }
      const results = Array.isArray(result) ? result : [result];
      for (const r of results) {
        if (!r || typeof r !== 'object' || Symbol.asyncIterator in r) continue;
        const list = (r as { errors?: readonly unknown[] }).errors;
        if (!list?.length) continue;
        const operationName = labelValue(operationNames.get(request), 'Anonymous');
        for (const e of list) {
          const code = (
            e instanceof GraphQLError ? e.extensions : (e as { extensions?: Record<string, unknown> })?.extensions
          )?.code;
          errors.inc({
            code: labelValue(typeof code === 'string' ? code : undefined, 'INTERNAL_SERVER_ERROR'),
            operationName,
          });
        }
      }
    },
  };

  const endpoint = options.endpoint ?? '/metrics';
  const expected = options.bearerToken ? Buffer.from(`Bearer ${options.bearerToken}`) : undefined;
  const scrapeGate: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!expected || url.pathname !== endpoint) return;
      const sent = Buffer.from(request.headers.get('authorization') ?? '');
      if (sent.length === expected.length && timingSafeEqual(sent, expected)) return;
      endResponse(
        new fetchAPI.Response('Unauthorized\n', {
          status: 401,
          headers: { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' },
        }),
      );
    },
  };

  return [
    scrapeGate,
    usePrometheus({
      registry,
      endpoint,
      skipIntrospection: false,
      // The full URL (with its query string) would make one series per request.
      labels: { url: false },
      metrics: {
        graphql_envelop_request: true,
        graphql_envelop_request_duration: true,
        graphql_envelop_request_time_summary: false,
        // Parse and validation are cached per document, and the context is a few objects: their histograms timed a
        // cache lookup on every request (3 observations) for nothing an operator acts on.
        graphql_envelop_phase_parse: false,
        graphql_envelop_phase_validate: false,
        graphql_envelop_phase_context: false,
        graphql_envelop_phase_execute: true,
        graphql_envelop_phase_subscribe: true,
        graphql_envelop_error_result: true,
        // The schema deprecates nothing, and counting it walks every document with type info (2 % of a small read).
        graphql_envelop_deprecated_field: false,
        graphql_envelop_schema_change: false,
        graphql_envelop_execute_resolver: false,
        graphql_yoga_http_duration: true,
      },
    }),
    errorsByCode,
  ];
}
