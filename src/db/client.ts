import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { Logger } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import * as schema from './schema.js';

/** The one database type the query code is written against (PGlite or PostgreSQL). */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DbHandle {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Applies the committed migrations in migrations/. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** postgres:// URL; when absent an embedded PGlite database is opened. */
  url?: string | undefined;
  /** PGlite data directory; when absent (and no url) the database lives in memory. */
  dataDir?: string | undefined;
  /** Called with every SQL statement Drizzle sends (tests count statements with it). */
  onQuery?: ((query: string, params: unknown[]) => void) | undefined;
  poolMax?: number | undefined;
}

/** Finds migrations/ whether we run from src/ (tsx) or from dist/ (compiled). */
export function migrationsFolder(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'migrations', 'meta', '_journal.json');
    if (existsSync(candidate)) return path.join(dir, 'migrations');
    dir = path.dirname(dir);
  }
  throw new Error('migrations/ folder not found next to the application');
}

export async function createDb(options: CreateDbOptions = {}): Promise<DbHandle> {
  const logger: Logger | undefined = options.onQuery
    ? { logQuery: (query, params) => options.onQuery?.(query, params) }
    : undefined;

  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client that loses its connection (database restart) emits 'error' on
    // the pool; without a listener that would crash the process.
    pool.on('error', (err) => {
      process.emitWarning(`PostgreSQL idle client error: ${err.message}`);
    });
    const db = drizzlePg({ client: pool, schema, logger });
    return {
      db: db as unknown as Db,
      kind: 'postgres',
      migrate: () => migratePg(db, { migrationsFolder: migrationsFolder() }),
      close: () => pool.end(),
    };
  }

  // pg_trgm (typo-tolerant search) is loaded from the PGlite package itself.
  const client = new PGlite({ ...(options.dataDir ? { dataDir: options.dataDir } : {}), extensions: { pg_trgm } });
  await client.waitReady;
  const db = drizzlePglite({ client, schema, logger });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    migrate: () => migratePglite(db, { migrationsFolder: migrationsFolder() }),
    close: () => client.close(),
  };
}
