import { existsSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { Logger, SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { NodePgSession, NodePgTransaction, drizzlePg, drizzlePglite, migratePg, migratePglite, sql } from './orm.js';
import { BRIDGE_PORT } from './pglite-bridge.js';
import { DamagedTemplateError, extractPgliteTemplate, pgliteTemplateFile } from './pglite-template.js';
import { useUnnamedStatements } from './unnamed-statements.js';
import * as schema from './schema.js';

/** The one database type the query code is written against (PGlite or PostgreSQL). */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DbHandle {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Applies the committed migrations in migrations/. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** The pg Pool (PostgreSQL, or PGlite through a running server's bridge), for health checks and tests. */
  pool?: pg.Pool;
  /** The embedded database when this process opened it itself. */
  pglite?: PGlite;
  /**
   * True when this open created the PGlite data directory (PGlite ran initdb). initdb runs in a WebAssembly
   * instance of its own whose memory (~320 MB) is garbage once the database is ready, but V8 frees it only at its
   * next full collection.
   */
  created?: boolean;
  /** True when this open made the PGlite cluster from the installation's template (pglite-template.ts) instead. */
  fromTemplate?: boolean;
}

/** Server-side limits every connection gets (milliseconds; 0 disables one). */
export interface DbTimeouts {
  /** `statement_timeout`: a longer statement is cancelled by PostgreSQL itself. */
  statementTimeoutMs?: number | undefined;
  /** `lock_timeout`: waiting longer for a lock is an error (55P03). */
  lockTimeoutMs?: number | undefined;
  /** `idle_in_transaction_session_timeout`: a transaction left open is ended by the server. */
  idleInTransactionTimeoutMs?: number | undefined;
}

export const DEFAULT_TIMEOUTS = {
  statementTimeoutMs: 5_000,
  lockTimeoutMs: 2_000,
  idleInTransactionTimeoutMs: 10_000,
  connectTimeoutMs: 2_000,
} as const;

/** Statement timeout of an import transaction (raised with SET LOCAL). */
export const IMPORT_STATEMENT_TIMEOUT_MS = 60_000;

export interface CreateDbOptions extends DbTimeouts {
  /** postgres:// URL; when absent an embedded PGlite database is opened. */
  url?: string | undefined;
  /**
   * Directory of the Unix socket of a running server that holds the PGlite
   * directory (pglite-bridge.ts): its database is used through it, with `pg`.
   */
  bridgeSocketDir?: string | undefined;
  /** In-memory PGlite only: start from this dump (`dumpDataDir`) instead of an empty cluster (tests: a migrated snapshot). */
  loadDataDir?: Blob | undefined;
  /**
   * false: send every statement unnamed (DB_PREPARED_STATEMENTS=off), for a pooler in transaction mode such as
   * PgBouncer 1.18, which does not carry named prepared statements between server connections.
   */
  preparedStatements?: boolean | undefined;
  /** PGlite data directory; when absent (and no url) the database lives in memory. */
  dataDir?: string | undefined;
  /**
   * A data directory without a cluster starts from this template file (default: the installation's,
   * pgliteTemplateFile()), or with `false` from PGlite's initdb. A damaged template is removed; when it does not
   * load, initdb runs instead.
   */
  pgliteTemplate?: string | false | undefined;
  /** Called with every SQL statement Drizzle sends (tests count statements with it). */
  onQuery?: ((query: string, params: unknown[]) => void) | undefined;
  poolMax?: number | undefined;
  /** How long to wait for a pooled connection (pool exhausted or server down) before failing. */
  connectTimeoutMs?: number | undefined;
  /** Told of a pooled connection's failure outside a query (the server passes its logger); default: a process warning. */
  onPoolError?: ((message: string) => void) | undefined;
  /**
   * PGlite's shared_buffers. PostgreSQL's default (128MB) is allocated up front in the
   * WASM heap and never returned; an archive of this size is served from far less.
   */
  pgliteSharedBuffers?: string | undefined;
}

/** PGlite's shared_buffers unless told otherwise (see CreateDbOptions.pgliteSharedBuffers). */
export const DEFAULT_PGLITE_SHARED_BUFFERS = '16MB';

function poolError(options: CreateDbOptions, message: string): void {
  if (options.onPoolError) options.onPoolError(message);
  else process.emitWarning(message);
}

/** A PostgreSQL memory size (`16MB`, `128kB`, `1GB`); anything else is refused before it reaches the config file. */
function sharedBuffers(value: string | undefined): string {
  const v = value ?? DEFAULT_PGLITE_SHARED_BUFFERS;
  if (!/^\d{1,7}(?:kB|MB|GB)$/.test(v))
    throw new Error(`shared_buffers must look like 16MB, 512kB or 1GB (got ${JSON.stringify(v)})`);
  return v;
}

/** Finds migrations/ whether we run from src/ (tsx), dist/ (compiled) or npm start's node_modules/.cache/llm-papers/start-…/. */
export function migrationsFolder(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 7; i++) {
    const candidate = path.join(dir, 'migrations', 'meta', '_journal.json');
    if (existsSync(candidate)) return path.join(dir, 'migrations');
    dir = path.dirname(dir);
  }
  throw new Error('migrations/ folder not found next to the application');
}

const ms = (value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) throw new Error(`invalid timeout: ${v}`);
  return v;
};

/** `-c name=value …` startup options: the settings hold for every connection of the pool. */
function sessionOptions(settings: Record<string, number | string>): string {
  return Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
}

/**
 * Raises (or lowers) the statement timeout for the rest of the current
 * transaction only (`SET LOCAL`); call it first thing inside `db.transaction`.
 */
export async function setLocalStatementTimeout(tx: Db, timeoutMs: number): Promise<void> {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new Error(`invalid timeout: ${timeoutMs}`);
  await tx.execute(sql.raw(`SET LOCAL statement_timeout = ${timeoutMs}`));
}

/**
 * drizzle-orm 0.45's NodePgSession.transaction() checks a client out of the
 * pool and sends BEGIN *before* its try/finally: when BEGIN fails (the
 * connection was terminated, the server restarts) the client is never
 * released and the pool slowly runs dry. It also returns a client whose
 * ROLLBACK failed to the pool as if it were healthy, and leaves no 'error'
 * listener on the client while the transaction runs. This replacement
 * releases the client on every path, destroys it (release(err)) when the
 * connection is in doubt, and listens for its errors.
 */
function installSafeTransactions(db: unknown, pool: pg.Pool): void {
  const session = (db as { session: NodePgSession<Record<string, unknown>, never> }).session;
  // Drizzle's session internals are not typed for reuse; their types are whatever its constructors take.
  const internals = session as unknown as {
    dialect: ConstructorParameters<typeof NodePgSession>[1];
    schema: ConstructorParameters<typeof NodePgSession>[2];
    options: ConstructorParameters<typeof NodePgSession>[3];
  };
  type TxConfig = Parameters<NodePgSession<Record<string, unknown>, never>['transaction']>[1];
  const transaction = async <T>(
    fn: (tx: NodePgTransaction<Record<string, unknown>, never>) => Promise<T>,
    config?: TxConfig,
  ) => {
    const client = await pool.connect();
    let releaseError: Error | undefined;
    // A checked-out client has no 'error' listener (pg-pool removes its idle
    // one): a FATAL while the transaction is idle (idle_in_transaction_session_
    // timeout, server shutdown) would be an uncaught 'error' event and crash
    // the process. Record it instead; the next statement fails anyway.
    const onClientError = (err: Error) => {
      releaseError = err;
    };
    client.on('error', onClientError);
    try {
      const txSession = new NodePgSession(client, internals.dialect, internals.schema, internals.options);
      const tx = new NodePgTransaction<Record<string, unknown>, never>(
        internals.dialect,
        txSession as unknown as ConstructorParameters<typeof NodePgTransaction>[1],
        internals.schema as ConstructorParameters<typeof NodePgTransaction<Record<string, unknown>, never>>[2],
      );
      try {
        await tx.execute(
          sql`begin${config ? sql` ${(tx as unknown as { getTransactionConfigSQL(c: TxConfig): SQL }).getTransactionConfigSQL(config)}` : undefined}`,
        );
      } catch (err) {
        releaseError = err instanceof Error ? err : new Error(String(err));
        throw err;
      }
      try {
        const result = await fn(tx);
        await tx.execute(sql`commit`);
        return result;
      } catch (err) {
        try {
          await tx.execute(sql`rollback`);
        } catch (rollbackErr) {
          // The connection is gone or broken: do not give it back to the pool.
          releaseError = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        throw err;
      }
    } finally {
      client.removeListener('error', onClientError);
      client.release(releaseError);
    }
  };
  (session as unknown as { transaction: typeof transaction }).transaction = transaction;
}

/**
 * A search that scores thousands of matches reads their rows through a bitmap heap scan; with
 * `effective_io_concurrency` above 1 PostgreSQL asks the operating system for the next blocks ahead
 * (posix_fadvise) instead of waiting for each read: pages whose rows were not in memory came 23–33 % faster
 * (BENCHMARKS.md), rows in memory the same. PostgreSQL 18 raised the default from 1 to 16 for this reason; each
 * connection to an older server still at 1 gets 16. A value the server or the database was given is kept.
 */
const RAISE_IO_CONCURRENCY = `SELECT set_config('effective_io_concurrency', '16', false)
  WHERE current_setting('effective_io_concurrency') = '1'`;

export async function createDb(options: CreateDbOptions = {}): Promise<DbHandle> {
  const logger: Logger | undefined = options.onQuery
    ? { logQuery: (query, params) => options.onQuery?.(query, params) }
    : undefined;
  const statementTimeout = ms(options.statementTimeoutMs, DEFAULT_TIMEOUTS.statementTimeoutMs);
  const lockTimeout = ms(options.lockTimeoutMs, DEFAULT_TIMEOUTS.lockTimeoutMs);
  const idleInTxTimeout = ms(options.idleInTransactionTimeoutMs, DEFAULT_TIMEOUTS.idleInTransactionTimeoutMs);
  const connectTimeout = ms(options.connectTimeoutMs, DEFAULT_TIMEOUTS.connectTimeoutMs);

  if (options.bridgeSocketDir) return createBridgeDb(options.bridgeSocketDir, options, logger, connectTimeout);

  if (options.url) {
    const url = options.url;
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolMax ?? 10,
      // Fail fast when the pool is exhausted or the server does not answer.
      connectionTimeoutMillis: connectTimeout,
      idleTimeoutMillis: 30_000,
      options: sessionOptions({
        statement_timeout: statementTimeout,
        lock_timeout: lockTimeout,
        idle_in_transaction_session_timeout: idleInTxTimeout,
        // Every statement of the API is bounded (pages, candidates): LLVM compilation,
        // which PostgreSQL starts from a cost estimate, took 20–30 ms of a 100 ms search.
        jit: 'off',
      }),
      // (awaited before the new connection's first statement: a query queued beside it is deprecated in pg 8 and
      // refused by pg 9; a failure leaves the server's setting)
      onConnect: async (client) => {
        await client.query(RAISE_IO_CONCURRENCY).catch(() => {});
      },
    });
    // An idle client that loses its connection (database restart) emits 'error' on
    // the pool; without a listener that would crash the process.
    pool.on('error', (err) => {
      poolError(options, `PostgreSQL idle client error: ${err.message}`);
    });
    const db = drizzlePg({ client: pool, schema, logger });
    installSafeTransactions(db, pool);
    if (options.preparedStatements === false) useUnnamedStatements(db as unknown as Db);
    return {
      db: db as unknown as Db,
      kind: 'postgres',
      pool,
      // Migrations may legitimately run long (index builds): their own short-lived
      // pool without the statement timeout, but with the same fail-fast connect.
      migrate: async () => {
        const migrationPool = new pg.Pool({
          connectionString: url,
          max: 1,
          connectionTimeoutMillis: connectTimeout,
          options: sessionOptions({
            statement_timeout: 0,
            lock_timeout: 60_000,
            idle_in_transaction_session_timeout: idleInTxTimeout,
          }),
        });
        migrationPool.on('error', () => {});
        try {
          const migrationDb = drizzlePg({ client: migrationPool, schema });
          installSafeTransactions(migrationDb, migrationPool);
          await migratePg(migrationDb, { migrationsFolder: migrationsFolder() });
        } finally {
          await migrationPool.end();
        }
      },
      close: () => pool.end(),
    };
  }

  const fresh =
    options.dataDir !== undefined && !options.loadDataDir && !existsSync(path.join(options.dataDir, 'PG_VERSION'));
  const templateFile =
    fresh && options.pgliteTemplate !== false ? (options.pgliteTemplate ?? pgliteTemplateFile()) : undefined;
  const open = (loadDataDir: Blob | undefined) =>
    // pg_trgm (typo-tolerant search) is loaded from the PGlite package itself.
    new PGlite({
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(loadDataDir ? { loadDataDir } : {}),
      extensions: { pg_trgm },
      postgresqlconf: [`shared_buffers = '${sharedBuffers(options.pgliteSharedBuffers)}'`],
    });
  let fromTemplate = false;
  const dir = options.dataDir;
  const before = new Set(templateFile && dir && existsSync(dir) ? readdirSync(dir) : []);
  // What a template extracted goes when it does not open (the directory keeps what it held before: the lock).
  const removeExtracted = () => {
    if (dir && existsSync(dir))
      for (const entry of readdirSync(dir)) if (!before.has(entry)) rmSync(path.join(dir, entry), { recursive: true });
  };
  if (templateFile && dir) {
    try {
      fromTemplate = await extractPgliteTemplate(templateFile, dir);
    } catch (err) {
      // A template that does not serve must not stop a first start: initdb runs. A damaged one must not stop the next
      // starts either: the file goes. One the system would not read or extract (permissions, a full disk) stays.
      removeExtracted();
      const damaged = err instanceof DamagedTemplateError;
      if (damaged) {
        try {
          unlinkSync(templateFile);
        } catch {}
      }
      process.emitWarning(
        damaged
          ? `The PGlite template ${templateFile} is damaged (${err.message}); removed it, running initdb.`
          : `The PGlite template ${templateFile} could not be used (${(err as Error).message}); running initdb.`,
      );
    }
  }
  let client = open(options.loadDataDir);
  try {
    await client.waitReady;
  } catch (err) {
    if (!fromTemplate) throw err;
    await client.close().catch(() => {});
    removeExtracted();
    fromTemplate = false;
    process.emitWarning(
      `A new database from the PGlite template ${templateFile} failed (${(err as Error).message}); running initdb.`,
    );
    client = open(options.loadDataDir);
    await client.waitReady;
  }
  const created = fresh && !fromTemplate;
  // PGlite accepts these settings but, being single-threaded WASM without
  // timer signals, does not enforce them (measured: pg_sleep(2) under a 500 ms
  // statement_timeout completes). They are set for parity; the idle-in-
  // transaction timeout is not, as ending the only session would be fatal.
  await client.exec(`SET statement_timeout = ${statementTimeout}; SET lock_timeout = ${lockTimeout};`);
  const db = drizzlePglite({ client, schema, logger });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    pglite: client,
    created,
    fromTemplate,
    migrate: () => migratePglite(db, { migrationsFolder: migrationsFolder() }),
    close: () => client.close(),
  };
}

/**
 * The PGlite of a running server, through its bridge. The server applies
 * migrations itself: `migrate` here only fails when they differ (see
 * open-for-command.ts, which checks before anything is written).
 */
function createBridgeDb(
  socketDir: string,
  options: CreateDbOptions,
  logger: Logger | undefined,
  connectTimeout: number,
): DbHandle {
  const pool = new pg.Pool({
    host: socketDir,
    port: BRIDGE_PORT,
    user: 'postgres',
    database: 'postgres',
    // PGlite runs one transaction at a time: more connections would only wait.
    max: Math.min(options.poolMax ?? 1, 4),
    connectionTimeoutMillis: connectTimeout,
  });
  pool.on('error', (err) => {
    poolError(options, `Connection to the server's database: ${err.message}`);
  });
  const db = drizzlePg({ client: pool, schema, logger });
  installSafeTransactions(db, pool);
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    pool,
    migrate: async () => {
      throw new Error('migrations are applied by the server that holds the database');
    },
    close: () => pool.end(),
  };
}
