import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { type App, createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { isDatabaseUnavailable } from './db/availability.js';
import { type DbHandle, createDb } from './db/client.js';
import { type DirLock, DirLockError, acquireDirLock, describeHolder, lockHolder } from './db/dir-lock.js';
import { type PgliteBridge, startPgliteBridge } from './db/pglite-bridge.js';
import { type ChangeSignal, createChangeSignal } from './db/change-signal.js';
import { type ListBounds, createListBounds } from './graphql/list-bounds.js';
import { isArchiveEmpty } from './db/queries/issue-content.js';
import { seedSample } from './db/seed.js';
import { Redis } from 'ioredis';
import { createEvents } from './events.js';
import { createResponseCache } from './http/response-cache.js';
import { persistedOperations } from './http/persisted.js';
import { admitNodeRequest, createRateLimits } from './http/limits.js';
import type { ResponseTierHooks } from './http/response-tier.js';
import { createLogger, logRequest, loggingPlugin, requestIdFrom } from './observability/logging.js';
import { countResponseTierHit, metricsPlugins } from './observability/metrics.js';
import { Registry } from 'prom-client';
import { healthResponse } from './http/health-routes.js';
import { RETRY_AFTER_SECONDS } from './http/errors.js';
import { limitRequestBodies } from './http/body-limit.js';
import { createDrain } from './http/drain.js';
import { createStreams } from './http/streams.js';
import { setSecurityHeaders } from './http/security-headers.js';

/** In-flight streams (subscriptions) get this long after SIGTERM before they are ended (a last SERVICE_UNAVAILABLE event, then complete). */
const STREAM_GRACE_MS = 5_000;
/** Streams that have not ended this long after being told to are cut. */
const STREAM_CUT_MS = 2_000;
/** Hard stop: an orchestrator's kill usually follows SIGTERM after 30 s. */
const HARD_STOP_MS = 24_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

const UNAVAILABLE_BODY = JSON.stringify({
  errors: [{ message: 'The database is unavailable; retry shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } }],
});

/** How long a starting server waits for a command (an import) that holds the PGlite directory. */
const LOCK_WAIT_MS = 120_000;

/** Takes the PGlite directory: at once from a dead holder, after a wait from a command, never from a server. */
async function lockDataDir(dir: string): Promise<DirLock> {
  const holder = lockHolder(dir);
  if (holder?.role === 'server') {
    throw new DirLockError(
      `The data directory ${dir} is in use by ${describeHolder(holder)}; only one server may open an embedded PGlite database. ` +
        `Stop it, or set DATA_DIR to another directory.`,
    );
  }
  return acquireDirLock(dir, 'server', {
    timeoutMs: LOCK_WAIT_MS,
    onWait: (h) => console.warn(`The data directory ${dir} is in use by ${describeHolder(h)}; waiting for it to finish…`),
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  // A missing or inconsistent manifest stops the start here, with its reason.
  const persisted = persistedOperations(config.PERSISTED_OPERATIONS, config.PERSISTED_OPERATIONS_MANIFEST);
  const pglite = !config.DATABASE_URL;
  // One process per PGlite directory: a second one would corrupt it. Commands run
  // meanwhile go through this server's database (the bridge below).
  const lock = pglite ? await lockDataDir(config.DATA_DIR) : null;
  const releaseLock = () => lock?.release();
  process.on('exit', releaseLock);
  let bridge: PgliteBridge | undefined;

  const dbOptions = {
    url: config.DATABASE_URL,
    dataDir: pglite ? config.DATA_DIR : undefined,
    poolMax: config.DB_POOL_MAX,
    statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: config.LOCK_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.IDLE_IN_TRANSACTION_TIMEOUT_MS,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
  };
  const where = pglite ? `PGlite in ${config.DATA_DIR}` : 'PostgreSQL';
  // While Redis is down, events are delivered in-process (subscribers of this process still hear its publishes).
  const events = createEvents(config.REDIS_URL, {
    onStatus: (s) =>
      s.event === 'fallback'
        ? logger.warn({ err: s.error }, 'Redis is unavailable: subscription events are delivered to this process only until it is back.')
        : logger.info('Redis is back: subscription events go through it again.'),
  });
  // Caps on open subscription streams (SSE), per client address and per process.
  const streams = createStreams({ perClient: config.STREAMS_PER_CLIENT, perProcess: config.STREAMS_PER_PROCESS, trustProxy: config.TRUST_PROXY });
  // One Redis connection for the shared rate-limit budget and response cache.
  // Commands fail fast while Redis is down, or after 1 s when it hangs (the rate limits then fall
  // back to memory; the response cache serves nothing).
  const redis = config.REDIS_URL
    ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 1_000 })
    : null;
  redis?.on('error', (err: Error) => process.emitWarning(`Redis: ${err.message}`));
  // The database's own announcement of every committed write (whoever made it); the cache
  // serves nothing while it is not following it.
  let changeSignal: ChangeSignal | undefined;
  let listBounds: ListBounds | undefined;
  const responseCache =
    config.RESPONSE_CACHE === 'on'
      ? createResponseCache({
          ttlMs: config.RESPONSE_CACHE_TTL_MS,
          redis,
          namespace: config.REDIS_NAMESPACE,
          healthy: () => changeSignal?.healthy() ?? false,
        })
      : undefined;
  // One rate-limit state for Yoga's plugins and the response tier (which answers before Yoga).
  const rateLimits = createRateLimits({
    rateLimit: {
      points: config.RATE_LIMIT_POINTS,
      durationSec: config.RATE_LIMIT_WINDOW_SEC,
      maxInFlight: config.RATE_LIMIT_IN_FLIGHT,
      authFailures: { points: config.RATE_LIMIT_AUTH_FAILURES, durationSec: config.RATE_LIMIT_AUTH_FAILURE_WINDOW_SEC },
      redis,
      namespace: config.REDIS_NAMESPACE,
    },
    trustProxy: config.TRUST_PROXY,
  });
  const registry = new Registry();
  // What the server does for a request the response tier answers: what Yoga's plugins do for the others.
  const tierHooks: ResponseTierHooks = {
    admit: admitNodeRequest(rateLimits),
    requestId: (req) => requestIdFrom(req.headers['x-request-id']),
    onServed: (served) => {
      logRequest(logger, {
        requestId: served.requestId!,
        method: served.method,
        path: served.path,
        status: served.status,
        durationMs: served.durationMs,
        graphql: { operationName: served.operationName, operationType: served.operationType, cost: served.cost, errorCodes: [], cache: 'response' },
      });
      countResponseTierHit(registry, served.operationName);
    },
  };
  // A pg Pool connects on first use only: the app can exist before the database answers.
  let handle: DbHandle | undefined = pglite ? undefined : await createDb(dbOptions);
  let app: App | undefined;
  // Anonymous repeated reads are answered by the response tier; the rest by the app (Yoga).
  const toApp = (req: IncomingMessage, res: ServerResponse) => app!(req, res);
  // Bodies over the limit are refused here (413, read to the end so that the client reads the answer), before anything reads them.
  const front = limitRequestBodies(responseCache ? responseCache.responses.handler(toApp, tierHooks) : toApp);
  const state = { ready: false, closing: false };

  // Requests and connections, for the drain on SIGTERM.
  const drain = createDrain();

  const handle503 = (res: ServerResponse) => {
    res.writeHead(503, {
      'content-type': 'application/json; charset=utf-8',
      'retry-after': String(RETRY_AFTER_SECONDS),
      'cache-control': 'no-store',
    });
    res.end(UNAVAILABLE_BODY);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    drain.track(req, res);
    // nosniff and CSP on everything, also what is answered here and before Yoga (health, 503, 413, the response tier).
    setSecurityHeaders(req, res);
    // Draining: no new streams (those open are ended shortly); other requests are answered, then the connection closed.
    if (state.closing && req.headers.accept?.includes('text/event-stream')) {
      req.resume();
      handle503(res);
      return;
    }
    const pathname = (req.url ?? '/').split('?')[0]!;
    if (pathname === '/healthz' || pathname === '/readyz') {
      void healthResponse(req.method ?? 'GET', pathname, () => ({ ready: state.ready && !state.closing }), handle?.db).then(
        (answer) => {
          res.writeHead(answer!.status, answer!.headers);
          res.end(req.method === 'HEAD' ? undefined : answer!.body);
        },
        () => {
          res.writeHead(503).end();
        },
      );
      return;
    }
    // Not yet migrated (database down at boot): a clear, retryable answer.
    if (!app) {
      req.resume();
      handle503(res);
      return;
    }
    front(req, res);
  };

  const server = createServer(
    {
      // Bounds on receiving a request (slow clients); statements are bounded by statement_timeout.
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      headersTimeout: Math.min(10_000, config.REQUEST_TIMEOUT_MS),
    },
    onRequest,
  );
  drain.attach(server);
  let port = config.PORT;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => {
      const address = server.address();
      port = typeof address === 'object' && address ? address.port : config.PORT;
      console.info(`Listening on port ${port} (liveness /healthz, readiness /readyz); opening the database…`);
      resolve();
    });
  });

  // Open, migrate and seed in the background, retrying while the database is unavailable.
  const stopInit = new AbortController();
  const initialise = async () => {
    let delay = RETRY_MIN_MS;
    for (let attempt = 1; !state.closing; attempt++) {
      try {
        handle ??= await createDb(dbOptions);
        await handle.migrate();
        if (config.SEED_SAMPLE && (await isArchiveEmpty(handle.db))) {
          await seedSample(handle.db);
          console.info('Loaded the sample edition into the empty database.');
        }
        // Sizes of plain lists for the cost analysis: after every write, whoever made it.
        listBounds ??= createListBounds(handle.db, (err) => logger.error({ err }, 'Reading the sizes of lists for the cost analysis failed.'));
        const bounds = listBounds;
        await bounds.refresh();
        changeSignal ??= await createChangeSignal({
          handle,
          connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
          onChange: async () => {
            await Promise.all([responseCache?.invalidate(), bounds.refresh()]);
          },
          onStatus: (s) => {
            if (s.event === 'listening') logger.info('Following database changes (response cache, list sizes).');
            else if (s.event === 'lost') {
              logger.warn({ err: s.error, retryInMs: s.retryInMs }, 'Lost the database change signal: the response cache serves nothing until it is back.');
            } else logger.error({ err: s.error }, 'Acting on a database change failed.');
          },
        });
        if (handle.pglite && lock) {
          bridge = await startPgliteBridge({
            pglite: handle.pglite,
            dataDir: config.DATA_DIR,
            idleInTransactionMs: config.IDLE_IN_TRANSACTION_TIMEOUT_MS || 10_000,
            onError: (err) => logger.error({ err }, 'PGlite bridge'),
          });
          // Only now may commands use this server's database: migrations are applied.
          lock.publish(bridge.info);
        }
        const pool = handle.pool;
        app = createApp({
          db: handle.db,
          events,
          listBounds,
          observability: [
            loggingPlugin(logger),
            ...metricsPlugins({
              registry,
              bearerToken: config.METRICS_TOKEN,
              dbPool: pool ? () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }) : undefined,
              openStreams: () => streams.open,
            }),
          ],
          plugins: persisted,
          responseCache,
          limits: rateLimits,
          streams,
          corsOrigins: config.CORS_ORIGINS,
          publicUrl: config.PUBLIC_URL,
        });
        state.ready = true;
        console.info(`GraphQL API on http://localhost:${port}/graphql (GraphiQL in a browser), database: ${where}`);
        return;
      } catch (err) {
        if (!isDatabaseUnavailable(err) || state.closing) throw err;
        const reason = err instanceof Error ? err.message || (err as NodeJS.ErrnoException).code : String(err);
        console.warn(`The database is not available yet (${reason}); retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt}).`);
        await sleep(delay, stopInit.signal);
        delay = Math.min(RETRY_MAX_MS, delay * 2);
      }
    }
  };
  const initialised = initialise().catch((err: unknown) => {
    if (state.closing) return;
    console.error('Failed to start:', err);
    process.exit(1);
  });

  const shutdown = async (signal: string) => {
    if (state.closing) return;
    state.closing = true;
    console.info(`${signal} received: draining connections…`);
    setTimeout(() => {
      console.error(`Shutdown took longer than ${HARD_STOP_MS / 1000} s; exiting.`);
      process.exit(1);
    }, HARD_STOP_MS).unref();
    stopInit.abort();
    // No new connections; every request already received is answered (with Connection: close), and so is
    // one arriving on an idle keep-alive connection meanwhile. Idle connections close after node's
    // keep-alive timeout, as clients expect; requests still computing (an import) are left to finish,
    // bounded by the hard stop.
    drain.start();
    // Event streams never end by themselves: after a grace period they are ended (a last
    // SERVICE_UNAVAILABLE event, then complete: clients subscribe again elsewhere), and cut if they hang.
    setTimeout(() => {
      streams.endAll();
      setTimeout(() => {
        for (const res of drain.started()) res.destroy();
      }, STREAM_CUT_MS).unref();
    }, STREAM_GRACE_MS).unref();
    await drain.settled(Date.now() + STREAM_GRACE_MS + STREAM_CUT_MS + server.keepAliveTimeout + 1_000);
    server.closeAllConnections();
    await initialised;
    await events.close();
    redis?.disconnect();
    await changeSignal?.close();
    await bridge?.close();
    await handle?.close();
    releaseLock();
    console.info('Closed the database; bye.');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // A stray rejection (e.g. a connection dropped mid-flight) must not take the API down.
  process.on('unhandledRejection', (reason) => {
    console.error('Unhandled rejection (the server keeps running):', reason);
  });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DirLockError) console.error(err.message);
  else console.error('Failed to start:', err);
  process.exit(1);
});
