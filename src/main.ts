import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { type App, createApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { isDatabaseUnavailable } from './db/availability.js';
import { type ChangeSignal, createChangeSignal } from './db/change-signal.js';
import { type CreateDbOptions, type DbHandle, createDb } from './db/client.js';
import { type DirLock, DirLockError, acquireDirLock, describeHolder, lockHolder } from './db/dir-lock.js';
import { type PgliteBridge, startPgliteBridge } from './db/pglite-bridge.js';
import { isArchiveEmpty } from './db/queries/issue-content.js';
import { seedSample } from './fixtures/seed.js';
import { type Events, createEvents } from './events.js';
import { collectGarbageNow } from './gc.js';
import { startMemorySoftLimit } from './memory-limit.js';
import { type ListBounds, createListBounds } from './graphql/list-bounds.js';
import { limitRequestBodies } from './http/pipeline/body-limit.js';
import { type Drain, createDrain } from './http/pipeline/drain.js';
import { RETRY_AFTER_SECONDS } from './http/pipeline/errors.js';
import { type RateLimits, admitNodeRequest, createRateLimits } from './http/pipeline/rate-limits.js';
import { MCP_DOCUMENTS } from './mcp/operations.js';
import { persistedOperations } from './http/pipeline/persisted.js';
import { type ResponseCache, createResponseCache } from './http/pipeline/response-cache.js';
import type { ResponseTierHooks } from './http/pipeline/response-tier.js';
import { setSecurityHeaders } from './http/pipeline/security-headers.js';
import { type Streams, createStreams } from './http/pipeline/streams.js';
import { healthResponse } from './http/routes/health.js';
import {
  type Logger,
  createLogger,
  lifecycleLogger,
  logRequest,
  loggingPlugin,
  requestIdFrom,
} from './observability/logging.js';
import { countResponseTierHit, metricsPlugins, softLimitCollections } from './observability/metrics.js';
import { type WebhookWorker, startWebhookWorker } from './webhooks/worker.js';
import { type ReplicaSet, createReplicaSet } from './db/replicas.js';

/**
 * The server (loaded by server.ts, the entry point), in steps: configure → lock the PGlite directory → the edge (events, caches, limits) →
 * listen → open the database in the background (migrate, seed, follow changes, build the app) → drain on
 * SIGTERM. The port is open before the database: health answers and GraphQL is a retryable 503 until then.
 */

/**
 * In-flight streams (subscriptions) get this long after SIGTERM before they are ended (a last SERVICE_UNAVAILABLE
 * event, then complete).
 */
const STREAM_GRACE_MS = 5_000;
/** Streams that have not ended this long after being told to are cut. */
const STREAM_CUT_MS = 2_000;
/** Hard stop: an orchestrator's kill usually follows SIGTERM after 30 s. */
const HARD_STOP_MS = 24_000;
const RETRY_MIN_MS = 250;
/** The memory soft limit starts this long after the database is ready. */
const MEMORY_WATCH_DELAY_MS = 5_000;
const RETRY_MAX_MS = 5_000;
/** How long a starting server waits for a command (an import) that holds the PGlite directory. */
const LOCK_WAIT_MS = 120_000;

const UNAVAILABLE_BODY = JSON.stringify({
  errors: [{ message: 'The database is unavailable; retry shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } }],
});

/** The process-wide parts that exist before the database: they answer (or refuse) requests from the start. */
interface Edge {
  events: Events;
  streams: Streams;
  redis: Redis | null;
  responseCache: ResponseCache | undefined;
  rateLimits: RateLimits;
  registry: Registry;
  persisted: Plugin[];
}

/** What opens with the database (in the background, retried while it is unavailable). */
interface Opened {
  handle?: DbHandle;
  listBounds?: ListBounds;
  changeSignal?: ChangeSignal;
  bridge?: PgliteBridge;
  app?: App;
  webhooks?: WebhookWorker;
  replicas?: ReplicaSet;
}

interface Runtime {
  config: Config;
  /** Requests, warnings and errors, at LOG_LEVEL. */
  logger: Logger;
  /** Listening, ready, draining, closed: whatever LOG_LEVEL says. */
  life: Logger;
  lock: DirLock | null;
  edge: Edge;
  opened: Opened;
  state: { ready: boolean; closing: boolean };
  drain: Drain;
  /** Stops the background opening of the database (shutdown). */
  stopInit: AbortController;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

// ---------------------------------------------------------------------------
// Start: configure, lock, the edge
// ---------------------------------------------------------------------------

/** Step 1: the configuration and the loggers; a missing or inconsistent persisted-operations manifest stops here. */
function configure(): { config: Config; logger: Logger; life: Logger; persisted: Plugin[] } {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const persisted = persistedOperations(
    config.PERSISTED_OPERATIONS,
    config.PERSISTED_OPERATIONS_MANIFEST,
    MCP_DOCUMENTS,
  );
  return { config, logger, life: lifecycleLogger(logger), persisted };
}

/**
 * Step 2 (PGlite only): one process per directory — a second one would corrupt it; commands run meanwhile go
 * through this server's database (the bridge). Taken at once from a dead holder, after a wait from a command,
 * never from a server.
 */
async function lockDataDir(dir: string, logger: Logger): Promise<DirLock> {
  const holder = lockHolder(dir);
  if (holder?.role === 'server') {
    throw new DirLockError(
      `The data directory ${dir} is in use by ${describeHolder(holder)}; ` +
        'only one server may open an embedded PGlite database. Stop it, or set DATA_DIR to another directory.',
    );
  }
  return acquireDirLock(dir, 'server', {
    timeoutMs: LOCK_WAIT_MS,
    onWait: (h) =>
      logger.warn(`The data directory ${dir} is in use by ${describeHolder(h)}; waiting for it to finish…`),
  });
}

/**
 * One Redis connection for the shared rate-limit budget and response cache. Commands fail fast while Redis is
 * down, or after 1 s when it hangs (the rate limits then fall back to memory; the response cache serves nothing).
 */
function connectRedis(config: Config, logger: Logger): Redis | null {
  if (!config.REDIS_URL) return null;
  const redis = new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
  });
  redis.on('error', (err: Error) => logger.warn({ err }, `Redis: ${err.message}`));
  return redis;
}

/** Step 3: events, stream caps, Redis, the response cache, the rate limits, the metrics registry. */
function createEdge(config: Config, logger: Logger, persisted: Plugin[], opened: Opened): Edge {
  const redis = connectRedis(config, logger);
  return {
    // While Redis is down, events are delivered in-process (subscribers of this process still hear its publishes).
    events: createEvents(config.REDIS_URL, { logger }),
    // Caps on open subscription streams (SSE), per client address and per process.
    streams: createStreams({
      perClient: config.STREAMS_PER_CLIENT,
      perProcess: config.STREAMS_PER_PROCESS,
      trustProxy: config.TRUST_PROXY,
    }),
    redis,
    // Serves nothing while the database's change signal is not followed (a write could go unseen).
    responseCache:
      config.RESPONSE_CACHE === 'on'
        ? createResponseCache({
            ttlMs: config.RESPONSE_CACHE_TTL_MS,
            redis,
            namespace: config.REDIS_NAMESPACE,
            healthy: () => opened.changeSignal?.healthy() ?? false,
          })
        : undefined,
    // One rate-limit state for Yoga's plugins and the response tier (which answers before Yoga).
    rateLimits: createRateLimits({
      rateLimit: {
        points: config.RATE_LIMIT_POINTS,
        durationSec: config.RATE_LIMIT_WINDOW_SEC,
        maxInFlight: config.RATE_LIMIT_IN_FLIGHT,
        authFailures: {
          points: config.RATE_LIMIT_AUTH_FAILURES,
          durationSec: config.RATE_LIMIT_AUTH_FAILURE_WINDOW_SEC,
        },
        redis,
        namespace: config.REDIS_NAMESPACE,
      },
      trustProxy: config.TRUST_PROXY,
    }),
    registry: new Registry(),
    persisted,
  };
}

function dbOptions(config: Config, logger: Logger): CreateDbOptions {
  return {
    onPoolError: (message) => logger.warn(message),
    url: config.DATABASE_URL,
    dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR,
    poolMax: config.DB_POOL_MAX,
    statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: config.LOCK_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.IDLE_IN_TRANSACTION_TIMEOUT_MS,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    pgliteSharedBuffers: config.PGLITE_SHARED_BUFFERS,
    ...(config.PGLITE_TEMPLATE === 'off' ? { pgliteTemplate: false as const } : {}),
    preparedStatements: config.DB_PREPARED_STATEMENTS === 'on',
  };
}

/** The read replicas (DATABASE_REPLICA_URLS), each with a pool of its own, watched for lag. */
async function openReplicas(rt: Runtime, primary: DbHandle): Promise<ReplicaSet | undefined> {
  const { config, logger } = rt;
  if (config.DATABASE_REPLICA_URLS.length === 0 || primary.kind !== 'postgres') return undefined;
  const replicas = await Promise.all(
    config.DATABASE_REPLICA_URLS.map(async (url, i) => ({
      name: `replica ${i + 1} (${new URL(url).host})`,
      // Replicas are reached directly (never through a transaction pooler): named statements there.
      handle: await createDb({ ...dbOptions(config, logger), url, dataDir: undefined, preparedStatements: true }),
    })),
  );
  return createReplicaSet({
    primary: primary.db,
    replicas,
    maxLagMs: config.REPLICA_MAX_LAG_MS,
    waitMs: config.REPLICA_WAIT_MS,
    pollMs: config.REPLICA_POLL_MS,
    onStatus: (s, change) =>
      change === 'in'
        ? logger.info({ replica: s.name, lagMs: s.lagMs }, 'Replica in rotation.')
        : logger.warn({ replica: s.name, lagMs: s.lagMs, error: s.error }, 'Replica out of rotation.'),
  });
}

// ---------------------------------------------------------------------------
// Requests: the node:http listener in front of the app
// ---------------------------------------------------------------------------

/** What the server does for a request the response tier answers: what Yoga's plugins do for the others. */
function tierHooks(rt: Runtime): ResponseTierHooks {
  const { logger, edge } = rt;
  return {
    admit: admitNodeRequest(edge.rateLimits),
    requestId: (req) => requestIdFrom(req.headers['x-request-id']),
    onServed: (served) => {
      logRequest(logger, {
        requestId: served.requestId!,
        method: served.method,
        path: served.path,
        status: served.status,
        durationMs: served.durationMs,
        graphql: {
          operationName: served.operationName,
          operationType: served.operationType,
          cost: served.cost,
          errorCodes: [],
          cache: 'response',
        },
      });
      countResponseTierHit(edge.registry, served.operationName);
    },
  };
}

function answerUnavailable(res: ServerResponse): void {
  res.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'retry-after': String(RETRY_AFTER_SECONDS),
    'cache-control': 'no-store',
  });
  res.end(UNAVAILABLE_BODY);
}

/** /healthz and /readyz, answered here: also while the database is not open yet. */
function answerHealth(rt: Runtime, req: IncomingMessage, res: ServerResponse, pathname: string): void {
  const state = () => ({
    ready: rt.state.ready && !rt.state.closing,
    readsElsewhere: rt.opened.replicas?.status().some((r) => r.healthy) ?? false,
  });
  void healthResponse(req.method ?? 'GET', pathname, state, rt.opened.handle?.db).then(
    (answer) => {
      res.writeHead(answer!.status, answer!.headers);
      res.end(req.method === 'HEAD' ? undefined : answer!.body);
    },
    () => {
      res.writeHead(503).end();
    },
  );
}

/**
 * Step 4: the request listener — drain tracking, security headers, health, 503s, the body limit, the response
 * tier, the app.
 */
function requestListener(rt: Runtime): (req: IncomingMessage, res: ServerResponse) => void {
  // Anonymous repeated reads are answered by the response tier; the rest by the app (Yoga).
  const toApp = (req: IncomingMessage, res: ServerResponse) => rt.opened.app!(req, res);
  const cache = rt.edge.responseCache;
  // Bodies over the limit are refused here (413, read to the end so that the client reads the answer), before
  // anything reads them.
  const front = limitRequestBodies(cache ? cache.responses.handler(toApp, tierHooks(rt)) : toApp);
  return (req, res) => {
    rt.drain.track(req, res);
    // nosniff and CSP on everything, also what is answered here and before Yoga (health, 503, 413, the response tier).
    setSecurityHeaders(req, res);
    // Draining: no new streams (those open are ended shortly); other requests are answered, then the connection closed.
    if (rt.state.closing && req.headers.accept?.includes('text/event-stream')) {
      req.resume();
      answerUnavailable(res);
      return;
    }
    const pathname = (req.url ?? '/').split('?')[0]!;
    if (pathname === '/healthz' || pathname === '/readyz') {
      answerHealth(rt, req, res, pathname);
      return;
    }
    // Not yet migrated (database down at boot): a clear, retryable answer.
    if (!rt.opened.app) {
      req.resume();
      answerUnavailable(res);
      return;
    }
    front(req, res);
  };
}

/** Step 5: listen (before the database opens); resolves with the port. */
async function listen(rt: Runtime, server: Server): Promise<number> {
  const { config } = rt;
  rt.drain.attach(server);
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      rt.life.info(`Listening on port ${port} (liveness /healthz, readiness /readyz); opening the database…`);
      resolve(port);
    });
  });
}

// ---------------------------------------------------------------------------
// The database, opened in the background
// ---------------------------------------------------------------------------

/** Migrations, then the sample edition into an empty archive (SEED_SAMPLE). */
async function migrateAndSeed(rt: Runtime, handle: DbHandle): Promise<void> {
  await handle.migrate();
  if (rt.config.SEED_SAMPLE && (await isArchiveEmpty(handle.db))) {
    await seedSample(handle.db);
    rt.logger.info('Loaded the sample edition into the empty database.');
  }
  // A first start: what PGlite's initdb held (RSS ~590 MB against ~270 MB), or the extraction of the template and
  // the migrations left, is freed now rather than at V8's next full collection.
  if (handle.created || handle.fromTemplate) collectGarbageNow();
}

/**
 * The database's own announcement of every committed write (whoever made it): the response cache and the
 * sizes of plain lists for the cost analysis follow it.
 */
async function followChanges(rt: Runtime, handle: DbHandle): Promise<ListBounds> {
  const { logger, opened } = rt;
  opened.listBounds ??= createListBounds(handle.db, (err) =>
    logger.error({ err }, 'Reading the sizes of lists for the cost analysis failed.'),
  );
  const bounds = opened.listBounds;
  await bounds.refresh();
  opened.changeSignal ??= await createChangeSignal({
    handle,
    connectTimeoutMs: rt.config.DB_CONNECT_TIMEOUT_MS,
    listenUrl: rt.config.DATABASE_LISTEN_URL,
    onChange: async () => {
      // A write may have recorded webhook events: look for them now rather than at the next poll.
      opened.webhooks?.wake();
      // Reads from now on see this change (a replica that has not replayed it is not read), before the
      // cache is dropped: what refills it is never older than the change.
      await opened.replicas?.raiseFloor().catch(() => {});
      await Promise.all([rt.edge.responseCache?.invalidate(), bounds.refresh()]);
    },
    onStatus: (s) => {
      if (s.event === 'listening') logger.info('Following database changes (response cache, list sizes).');
      else if (s.event === 'lost') {
        logger.warn(
          { err: s.error, retryInMs: s.retryInMs },
          'Lost the database change signal: the response cache serves nothing until it is back.',
        );
      } else logger.error({ err: s.error }, 'Acting on a database change failed.');
    },
  });
  return bounds;
}

/** PGlite: commands may use this server's database (over a Unix socket) only now, once migrations are applied. */
async function shareWithCommands(rt: Runtime, handle: DbHandle): Promise<void> {
  if (!handle.pglite || !rt.lock) return;
  rt.opened.bridge = await startPgliteBridge({
    pglite: handle.pglite,
    dataDir: rt.config.DATA_DIR,
    idleInTransactionMs: rt.config.IDLE_IN_TRANSACTION_TIMEOUT_MS || 10_000,
    onError: (err) => rt.logger.error({ err }, 'PGlite bridge'),
  });
  rt.lock.publish(rt.opened.bridge.info);
}

/** The app (Yoga) over the open database, with the edge's parts. */
function buildApp(rt: Runtime, handle: DbHandle, listBounds: ListBounds): App {
  const { config, logger, edge } = rt;
  const pool = handle.pool;
  return createApp({
    db: handle.db,
    events: edge.events,
    listBounds,
    observability: [
      loggingPlugin(logger),
      ...metricsPlugins({
        registry: edge.registry,
        bearerToken: config.METRICS_TOKEN,
        dbPool: pool ? () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }) : undefined,
        openStreams: () => edge.streams.open,
        replicas: rt.opened.replicas ? () => rt.opened.replicas?.status() ?? [] : undefined,
      }),
    ],
    plugins: edge.persisted,
    responseCache: edge.responseCache,
    limits: edge.rateLimits,
    streams: edge.streams,
    corsOrigins: config.CORS_ORIGINS,
    publicUrl: config.PUBLIC_URL,
    federation: config.FEDERATION === 'on',
    webhookAllowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    replicas: rt.opened.replicas,
    logger,
  });
}

/** One attempt at opening the database; what succeeded is kept for the next attempt. */
async function openOnce(rt: Runtime): Promise<void> {
  rt.opened.handle ??= await createDb(dbOptions(rt.config, rt.logger));
  const handle = rt.opened.handle;
  await migrateAndSeed(rt, handle);
  rt.opened.replicas ??= await openReplicas(rt, handle);
  const listBounds = await followChanges(rt, handle);
  await shareWithCommands(rt, handle);
  rt.opened.app = buildApp(rt, handle, listBounds);
  startWebhooks(rt, handle);
}

/** The webhook worker of this process (WEBHOOKS=on): posts what the outbox holds, shared with other processes. */
function startWebhooks(rt: Runtime, handle: DbHandle): void {
  const { config } = rt;
  if (config.WEBHOOKS !== 'on' || rt.opened.webhooks) return;
  rt.opened.webhooks = startWebhookWorker({
    db: handle.db,
    logger: rt.logger,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    pollMs: config.WEBHOOK_POLL_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    retryScale: config.WEBHOOK_RETRY_SCALE,
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
  });
}

/** Step 6: open, migrate and seed in the background, retrying while the database is unavailable. */
async function openDatabase(rt: Runtime, port: number): Promise<void> {
  const where = rt.config.DATABASE_URL ? 'PostgreSQL' : `PGlite in ${rt.config.DATA_DIR}`;
  let delay = RETRY_MIN_MS;
  for (let attempt = 1; !rt.state.closing; attempt++) {
    try {
      await openOnce(rt);
      rt.state.ready = true;
      rt.life.info(`GraphQL API on http://localhost:${port}/graphql (GraphiQL in a browser), database: ${where}`);
      // Not while starting: what start-up holds is not garbage (migrations, V8 compiling PGlite's WebAssembly).
      setTimeout(() => watchMemory(rt.config, rt.edge.registry, rt.logger), MEMORY_WATCH_DELAY_MS).unref();
      return;
    } catch (err) {
      if (!isDatabaseUnavailable(err) || rt.state.closing) throw err;
      const reason = err instanceof Error ? err.message || (err as NodeJS.ErrnoException).code : String(err);
      const retry = `retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt})`;
      rt.logger.warn(`The database is not available yet (${reason}); ${retry}.`);
      await sleep(delay, rt.stopInit.signal);
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  }
}

// ---------------------------------------------------------------------------
// Shutdown: drain, then close
// ---------------------------------------------------------------------------

/**
 * No new connections; every request already received is answered (with Connection: close), and so is one
 * arriving on an idle keep-alive connection meanwhile. Idle connections close after node's keep-alive timeout,
 * as clients expect; requests still computing (an import) are left to finish, bounded by the hard stop.
 * Event streams never end by themselves: after a grace period they are ended (a last SERVICE_UNAVAILABLE event,
 * then complete: clients subscribe again elsewhere), and cut if they hang.
 */
async function drainConnections(rt: Runtime, server: Server): Promise<void> {
  rt.drain.start();
  setTimeout(() => {
    rt.edge.streams.endAll();
    setTimeout(() => {
      for (const res of rt.drain.started()) res.destroy();
    }, STREAM_CUT_MS).unref();
  }, STREAM_GRACE_MS).unref();
  await rt.drain.settled(Date.now() + STREAM_GRACE_MS + STREAM_CUT_MS + server.keepAliveTimeout + 1_000);
  server.closeAllConnections();
}

/** Events, Redis, the change signal, the bridge, the database, the directory's lock. */
async function closeResources(rt: Runtime): Promise<void> {
  // Deliveries being posted finish (at most WEBHOOK_TIMEOUT_MS); nothing new is taken.
  await rt.opened.webhooks?.stop();
  await rt.edge.events.close();
  rt.edge.redis?.disconnect();
  await rt.opened.changeSignal?.close();
  await rt.opened.replicas?.close();
  await rt.opened.bridge?.close();
  await rt.opened.handle?.close();
  rt.lock?.release();
}

/** Step 7: on SIGTERM or SIGINT, drain and close, within the hard stop. */
function handleSignals(rt: Runtime, server: Server, opening: Promise<void>): void {
  const shutdown = async (signal: string) => {
    if (rt.state.closing) return;
    rt.state.closing = true;
    rt.life.info(`${signal} received: draining connections…`);
    setTimeout(() => {
      rt.life.error(`Shutdown took longer than ${HARD_STOP_MS / 1000} s; exiting.`);
      process.exit(1);
    }, HARD_STOP_MS).unref();
    rt.stopInit.abort();
    await drainConnections(rt, server);
    await opening;
    await closeResources(rt);
    rt.life.info('Closed the database; bye.');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // A stray rejection (e.g. a connection dropped mid-flight) must not take the API down.
  process.on('unhandledRejection', (reason) => {
    rt.logger.error({ err: reason }, 'Unhandled rejection (the server keeps running).');
  });
}

/**
 * MEMORY_SOFT_LIMIT_MB. Default: 240 on PGlite, where the database shares the process, when glibc is told to give
 * freed memory back (allocator.ts: Node ≥ 22.15 sets it); off on PostgreSQL, and without that setting (Node 20:
 * glibc's arenas alone keep the idle server at 255–280 MB, so collections could not bring it under the limit).
 */
function watchMemory(config: Config, registry: Registry, logger: Logger): void {
  const trimming = process.env.MALLOC_TRIM_THRESHOLD_ !== undefined;
  const setting = config.MEMORY_SOFT_LIMIT_MB ?? (!config.DATABASE_URL && trimming ? '240' : 'off');
  if (setting === 'off') return;
  const collections = softLimitCollections(registry);
  startMemorySoftLimit({
    limitBytes: Number(setting) * 1024 * 1024,
    onCollect: () => collections.inc(),
    onOver: (rss) =>
      logger.warn(
        `Resident memory ${Math.round(rss / 1048576)} MB stays above MEMORY_SOFT_LIMIT_MB=${setting} after a full ` +
          'garbage collection: what the server holds exceeds it; collecting less often (raise the limit, or set it off).',
      ),
  });
}

/** A failure before the server runs: said (a configuration or lock error by its message alone), exit 1. */
function failStart(life: Logger, err: unknown): never {
  if (err instanceof ConfigError || err instanceof DirLockError) life.fatal(err.message);
  else life.fatal({ err }, 'Failed to start.');
  process.exit(1);
}

async function main(): Promise<void> {
  const { config, logger, life, persisted } = configure();
  try {
    const lock = config.DATABASE_URL ? null : await lockDataDir(config.DATA_DIR, logger);
    process.on('exit', () => lock?.release());
    const opened: Opened = {};
    const rt: Runtime = {
      config,
      logger,
      life,
      lock,
      edge: createEdge(config, logger, persisted, opened),
      opened,
      state: { ready: false, closing: false },
      drain: createDrain(),
      stopInit: new AbortController(),
    };
    // A pg Pool connects on first use only: the app can exist before the database answers.
    if (config.DATABASE_URL) opened.handle = await createDb(dbOptions(config, logger));
    const server = createServer(
      {
        // Bounds on receiving a request (slow clients); statements are bounded by statement_timeout.
        requestTimeout: config.REQUEST_TIMEOUT_MS,
        headersTimeout: Math.min(10_000, config.REQUEST_TIMEOUT_MS),
      },
      requestListener(rt),
    );
    const port = await listen(rt, server);
    const opening = openDatabase(rt, port).catch((err: unknown) => {
      if (!rt.state.closing) failStart(life, err);
    });
    handleSignals(rt, server, opening);
  } catch (err) {
    failStart(life, err);
  }
}

main().catch((err: unknown) => failStart(lifecycleLogger(createLogger('info')), err));
