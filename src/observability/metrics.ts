import { timingSafeEqual } from 'node:crypto';
import { type DocumentNode, GraphQLError, getOperationAST } from 'graphql';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
 * operation name and type (operationMetrics below), HTTP durations by
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
  // GET <endpoint>: the registry in Prometheus's text format, behind the bearer token when one is set.
  const scrapeGate: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (endpoint === false || url.pathname !== endpoint) return;
      if (expected) {
        const sent = Buffer.from(request.headers.get('authorization') ?? '');
        if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
          endResponse(
            new fetchAPI.Response('Unauthorized\n', {
              status: 401,
              headers: { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' },
            }),
          );
          return;
        }
      }
      return registry.metrics().then((text) => {
        endResponse(new fetchAPI.Response(text, { headers: { 'content-type': registry.contentType } }));
      });
    },
  };

  return [scrapeGate, operationMetrics(registry, operationNames), errorsByCode];
}

/** What the operation metrics label a request with. */
interface OperationLabels {
  operationName: string;
  operationType: string;
}

const UNKNOWN_OPERATION: OperationLabels = { operationName: 'Anonymous', operationType: 'unknown' };

/**
 * The series `@graphql-yoga/plugin-prometheus` 6.19 wrote (same names, types, labels, buckets, phases), written
 * here because that plugin was a large share of a small read's CPU (BENCHMARKS.md, the tenth note): for each
 * observation it rebuilt and filtered label objects and spread the server context. Here the labels are one
 * object per document and operation, made once; each request records one start time and its labels.
 *
 * - `graphql_envelop_request`, `…_request_duration`, `…_phase_execute` / `…_phase_subscribe`: per executed
 *   operation (the two histograms observe the execution's time, as the plugin's did);
 * - `graphql_envelop_error_result`: a document that does not parse (phase `parse`), one that does not validate
 *   (`validate`, once per request), a context that fails to build (`context`), each error of an execution's
 *   result (`execute`, with the error's `path`);
 * - `graphql_yoga_http_duration`: each HTTP request whose document parsed, by method and status.
 *
 * Names are the selected operation's (a document's names are identifiers; the client's `operationName` only
 * selects), so clients cannot add series with arbitrary text.
 */
function operationMetrics(registry: Registry, operationNames: WeakMap<Request, string>): Plugin {
  const opLabels = ['operationName', 'operationType'] as const;
  const histogram = (name: string, help: string) =>
    new Histogram({ name, help, labelNames: opLabels, registers: [registry] });
  const execute = histogram('graphql_envelop_phase_execute', 'Time spent on running the GraphQL "execute" function');
  const subscribe = histogram(
    'graphql_envelop_phase_subscribe',
    'Time spent on running the GraphQL "subscribe" function',
  );
  const total = histogram(
    METRIC_NAMES.requestDuration,
    'Time spent on running the GraphQL operation from parse to execute',
  );
  const requests = new Counter({
    name: METRIC_NAMES.requests,
    help: 'Counts the amount of GraphQL requests executed through Envelop',
    labelNames: opLabels,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_envelop_error_result',
    help: 'Counts the amount of errors reported from all phases',
    labelNames: ['operationType', 'operationName', 'path', 'phase'] as const,
    registers: [registry],
  });
  const http = new Histogram({
    name: METRIC_NAMES.httpDuration,
    help: 'Time spent on HTTP connection',
    labelNames: ['operationName', 'operationType', 'method', 'statusCode'] as const,
    registers: [registry],
  });

  // Per document (the parse cache hands out one object per query text), per selected operation name.
  const byDocument = new WeakMap<DocumentNode, Map<string | undefined, OperationLabels>>();
  const labelsOf = (document: DocumentNode, operationName: string | undefined): OperationLabels => {
    let names = byDocument.get(document);
    if (!names) {
      names = new Map();
      byDocument.set(document, names);
    }
    let labels = names.get(operationName);
    if (!labels) {
      const op = getOperationAST(document, operationName);
      labels = op
        ? { operationName: labelValue(op.name?.value, 'Anonymous'), operationType: op.operation }
        : UNKNOWN_OPERATION;
      names.set(operationName, labels);
    }
    return labels;
  };
  const byContext = new WeakMap<object, OperationLabels>();
  const started = new WeakMap<Request, number>();
  const forHttp = new WeakMap<Request, OperationLabels>();

  const countErrors = (labels: OperationLabels, result: unknown, phase: string) => {
    const list = (result as { errors?: ReadonlyArray<{ path?: ReadonlyArray<string | number> }> } | null)?.errors;
    if (!list?.length) return;
    for (const error of list) {
      errors.inc(
        error.path
          ? { ...labels, phase, path: error.path.join('.') }
          : { operationName: labels.operationName, operationType: labels.operationType, phase },
      );
    }
  };
  // Execution and subscription alike: the time to the result (or to the stream's end), the count, result errors.
  const timed = (phase: Histogram<'operationName' | 'operationType'>, labels: OperationLabels) => {
    const start = Date.now();
    const end = () => {
      const seconds = (Date.now() - start) / 1000;
      phase.observe(labels, seconds);
      total.observe(labels, seconds);
      requests.inc(labels);
    };
    const onResult = ({ result }: { result: unknown }) => countErrors(labels, result, 'execute');
    return ({ result }: { result: unknown }) => {
      if (isAsyncIterable(result)) return { onNext: onResult, onEnd: end };
      onResult({ result });
      end();
      return undefined;
    };
  };

  return {
    onPluginInit({ registerContextErrorHandler }) {
      registerContextErrorHandler(({ context }) => {
        const labels = byContext.get(context as object);
        if (labels) errors.inc({ ...labels, phase: 'context' });
      });
    },
    onRequest({ request }) {
      started.set(request, Date.now());
    },
    onParse({ context }) {
      return ({ result }) => {
        const request = (context as { request?: Request }).request;
        if (!result || result instanceof Error || !('kind' in result)) {
          errors.inc({ ...UNKNOWN_OPERATION, phase: 'parse' });
          return;
        }
        const name = (context as { params?: { operationName?: string } }).params?.operationName;
        const labels = labelsOf(result as DocumentNode, name ?? undefined);
        byContext.set(context, labels);
        if (request) {
          forHttp.set(request, labels);
          if (labels !== UNKNOWN_OPERATION && labels.operationName !== 'Anonymous')
            operationNames.set(request, labels.operationName);
        }
      };
    },
    onValidate({ context }) {
      const labels = byContext.get(context);
      if (!labels) return undefined;
      return ({ valid }) => {
        if (!valid) errors.inc({ ...labels, phase: 'validate' });
      };
    },
    onExecute({ args }) {
      const labels = byContext.get(args.contextValue as object);
      if (!labels) return undefined;
      const done = timed(execute, labels);
      return { onExecuteDone: done };
    },
    onSubscribe({ args }) {
      const labels = byContext.get(args.contextValue as object);
      if (!labels) return undefined;
      const done = timed(subscribe, labels);
      return {
        onSubscribeResult: done,
        onSubscribeError: () => errors.inc({ ...labels, phase: 'subscribe' }),
      };
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      const labels = forHttp.get(request);
      if (start === undefined || !labels) return;
      http.observe(
        {
          method: request.method,
          statusCode: response.status,
          operationType: labels.operationType,
          operationName: labels.operationName,
        },
        (Date.now() - start) / 1000,
      );
    },
  };
}
