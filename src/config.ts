import { z } from 'zod';

/**
 * All configuration comes from environment variables, parsed and validated
 * here, in one place. Invalid values stop the process with a clear message.
 */
const EnvSchema = z.object({
  PORT: z.coerce.number({ message: 'must be a port number' }).int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** PostgreSQL connection string. When unset, an embedded PGlite database is used. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  /** Redis for subscriptions across server processes (and, later, shared limits and cache). In-process when unset. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  /** Prefix of everything this archive keeps in Redis (cache, budgets, events): archives sharing one Redis need different ones. */
  REDIS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, _ or -')
    .default('main'),
  /** Directory of the embedded PGlite database (ignored when DATABASE_URL is set). */
  DATA_DIR: z.string().min(1).default('./data'),
  /** PGlite's shared_buffers (PostgreSQL memory size, e.g. 16MB): its cache, held in memory for the process's life. */
  PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^\d{1,7}(?:kB|MB|GB)$/, 'must be a size such as 16MB, 512kB or 1GB')
    .default('16MB'),
  /**
   * A new PGlite data directory starts from the empty cluster `npm install` made (on), or from PGlite's initdb
   * (off: 4.5–5.5 s more on a first start).
   */
  PGLITE_TEMPLATE: z.enum(['on', 'off']).default('on'),
  /**
   * Soft limit on the server's resident memory, in MB (src/memory-limit.ts): above it V8 is asked for a full
   * collection that also shrinks its young generation (at most one a second). `off`: none. Default: 240 on PGlite
   * when glibc gives freed memory back (MALLOC_TRIM_THRESHOLD_, which the server sets on Node ≥ 22.15); otherwise off.
   */
  MEMORY_SOFT_LIMIT_MB: z
    .string()
    .refine(
      (v) => v === 'off' || (/^\d{2,6}$/.test(v) && Number(v) >= 64),
      'must be a number of MB (at least 64) or off',
    )
    .optional(),
  /** Maximum connections of the PostgreSQL pool. */
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** Load the sample edition into an empty database at start-up. */
  SEED_SAMPLE: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** Server-side limit of one SQL statement (PostgreSQL statement_timeout); imports raise it for their transaction. */
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  /** How long a statement may wait for a lock (lock_timeout) before failing with a TIMEOUT error. */
  LOCK_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(2_000),
  /** A transaction left idle longer than this is ended by PostgreSQL (idle_in_transaction_session_timeout). */
  IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  /** How long a request waits for a pooled connection (pool exhausted or database down) before failing. */
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** Time allowed to receive a whole HTTP request (Node's requestTimeout); headers within min(this, 10 s). */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** Rate limit: points (query cost, at least 1 per request) per client per window. */
  RATE_LIMIT_POINTS: z.coerce.number().int().min(1).default(5000),
  /** Rate limit window, in seconds. */
  RATE_LIMIT_WINDOW_SEC: z.coerce.number().int().min(1).default(3600),
  /** Requests one client may have in flight at once (per server process). */
  RATE_LIMIT_IN_FLIGHT: z.coerce.number().int().min(1).default(10),
  /** Subscription streams (SSE) one client address may hold open at once (per server process). */
  STREAMS_PER_CLIENT: z.coerce.number().int().min(1).default(20),
  /** Subscription streams (SSE) open at once in one server process. */
  STREAMS_PER_PROCESS: z.coerce.number().int().min(1).default(1000),
  /** Failed authentications (401) per client address per window; then 429 for tokens not yet accepted. */
  RATE_LIMIT_AUTH_FAILURES: z.coerce.number().int().min(1).default(20),
  /** Window of RATE_LIMIT_AUTH_FAILURES, in seconds. */
  RATE_LIMIT_AUTH_FAILURE_WINDOW_SEC: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Trust X-Forwarded-For for the client address (only behind your own proxy). */
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** Comma-separated CORS origins; `*` (the default) allows any origin, never with credentials. */
  CORS_ORIGINS: z
    .string()
    .default('*')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  /** Public base URL of the site, for absolute links in feeds (https://papers.example.org); request origin when unset. */
  PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^\s?#]+$/, 'must be an http(s) URL without query or fragment')
    .optional(),
  /** Cache anonymous read results (on by default). */
  RESPONSE_CACHE: z.enum(['on', 'off']).default('on'),
  /** `on`: /graphql serves the schema as an Apollo Federation subgraph (`_service`, `_entities`, @key). */
  FEDERATION: z.enum(['on', 'off']).default('off'),
  /** How long a cached result may be served, in ms (every write drops the cache at once anyway). */
  RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(300_000),
  /** Persisted operations: `off` accepts any operation, `only` just those of the manifest. */
  PERSISTED_OPERATIONS: z.enum(['off', 'only']).default('off'),
  /** Manifest { "<sha256>": "<document>" } for PERSISTED_OPERATIONS=only (relative to the working directory). */
  PERSISTED_OPERATIONS_MANIFEST: z.string().min(1).default('examples/client/persisted-operations.json'),
  /** When set, scraping /metrics needs `Authorization: Bearer <this>`. */
  METRICS_TOKEN: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Comma-separated postgres:// URLs of streaming replicas: queries read there (with read-your-writes). */
  DATABASE_REPLICA_URLS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^postgres(ql)?:\/\//, 'each must be a postgres:// URL'))),
  /** A replica lagging more than this (ms) is out of rotation until it catches up. */
  REPLICA_MAX_LAG_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
  /** How long a read may wait for a replica to replay its read-after position before it goes to the primary (ms). */
  REPLICA_WAIT_MS: z.coerce.number().int().min(0).max(5_000).default(50),
  /** How often each replica's position is checked (ms). */
  REPLICA_POLL_MS: z.coerce.number().int().min(20).max(60_000).default(250),
  /** Where LISTEN connects when DATABASE_URL goes through a pooler in transaction mode: the primary itself. */
  DATABASE_LISTEN_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** `off`: every statement unnamed (PgBouncer in transaction mode, which does not carry named statements). */
  DB_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on'),
  /** `off`: this process posts no webhook deliveries (events are still recorded; another process may post them). */
  WEBHOOKS: z.enum(['on', 'off']).default('on'),
  /** Let webhooks reach loopback, private and link-local addresses (tests, local setups); refused by default (SSRF). */
  WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** How long a receiver has to answer a delivery, in ms. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** How often the worker looks for due deliveries when no write woke it, in ms. */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** Endpoints one process posts to at once. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
  /** Multiplies the retry delays (5 s … 15 h): 1 in production; tests shorten them. */
  WEBHOOK_RETRY_SCALE: z.coerce.number().min(0.0001).max(10).default(1),
  /** An endpoint whose every delivery failed for this many hours is disabled, with the reason. */
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce.number().min(0.0001).max(8_760).default(72),
});

export type Config = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
