import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { type DbHandle, createDb } from '../../src/db/client.js';
import { loadSnapshot } from './pglite-snapshot.js';

export interface TestDb extends DbHandle {
  /** SQL statements sent since the last reset. */
  statements: string[];
  /** The values bound to each of `statements`, in the same order. */
  statementParams: unknown[][];
  resetStatements(): void;
  /** Deletes every row (between tests that need a clean archive). */
  truncate(): Promise<void>;
  /** Closes and, on PostgreSQL, drops the throwaway database. */
  destroy(): Promise<void>;
}

/**
 * An isolated, migrated database for one test file: an in-memory PGlite, or
 * — when DATABASE_URL is set — a fresh throwaway database on that server.
 */
export async function createTestDb(): Promise<TestDb> {
  const statements: string[] = [];
  const statementParams: unknown[][] = [];
  const onQuery = (query: string, params: unknown[]) => {
    statements.push(query);
    statementParams.push(params);
  };
  const baseUrl = process.env.DATABASE_URL;
  let dropDatabase: (() => Promise<void>) | undefined;
  let handle: DbHandle;
  if (baseUrl) {
    const throwaway = await createThrowawayDatabase(baseUrl);
    handle = await createDb({ url: throwaway.url, onQuery });
    dropDatabase = throwaway.drop;
  } else {
    const snapshot = loadSnapshot();
    handle = await createDb({ onQuery, ...(snapshot ? { loadDataDir: snapshot } : {}) });
  }
  await handle.migrate();
  return {
    ...handle,
    statements,
    statementParams,
    resetStatements: () => {
      statements.length = 0;
      statementParams.length = 0;
    },
    truncate: async () => {
      await handle.db.execute(
        sql.raw(
          'TRUNCATE papers, sections, issues, categories, category_aliases, api_tokens, webhooks, webhook_deliveries RESTART IDENTITY CASCADE',
        ),
      );
    },
    destroy: async () => {
      await handle.close();
      await dropDatabase?.();
    },
  };
}

/** Creates an empty database on the server of `baseUrl`; `drop` removes it. */
export async function createThrowawayDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
