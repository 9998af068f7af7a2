/**
 * Pool exhaustion, lock waits, statement timeouts and the Drizzle BEGIN leak,
 * against a PRIVATE PostgreSQL instance.
 */
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { GraphQLError } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, isTimeout } from '../../src/db/availability.js';
import { CHANGE_SIGNAL_APPLICATION_NAME } from '../../src/db/change-signal.js';
import { type Db, createDb, setLocalStatementTimeout } from '../../src/db/client.js';
import { selectRows } from '../../src/db/queries/util.js';
import { maskError } from '../../src/http/pipeline/errors.js';
import { LATEST, sleep, spawnServer, timedGql } from './helpers.js';
import { type PrivatePg, privatePgAvailable, startPrivatePg, waitFor } from './private-pg.js';

/** What a failed query throws: Drizzle's error with the driver's as `cause`, or the driver's. */
type DriverError = Error & { code?: string; cause?: { message?: string; code?: string } };
type TransactionConfig = Parameters<Db['transaction']>[1];

/** The server process of a pg client (pg keeps it from BackendKeyData; its types do not declare it). */
const backendPid = (client: pg.ClientBase) => (client as unknown as { processID: number }).processID;

async function activity(admin: pg.Client, db: string) {
  const { rows } = await admin.query<{ pid: number; state: string; query: string; application_name: string }>(
    `SELECT pid, state, query, application_name FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [db],
  );
  return rows;
}

describe.skipIf(!privatePgAvailable)('pool, locks and timeouts (private instance)', () => {
  let pgi: PrivatePg;
  let admin: pg.Client;
  beforeAll(async () => {
    pgi = await startPrivatePg();
    admin = await pgi.admin();
  });
  afterAll(async () => {
    await admin?.end();
    pgi?.destroy();
  });

  it('pool exhaustion and lock waits fail fast with TIMEOUT / SERVICE_UNAVAILABLE, then everything works, nothing leaks', async () => {
    const url = await pgi.createDatabase('pool_exhaust');
    const server = await spawnServer({ DATABASE_URL: url, DB_POOL_MAX: '2' });
    const locker = await pgi.admin('pool_exhaust');
    try {
      await server.ready();
      expect((await timedGql(server.url, LATEST)).status).toBe(200);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE issues IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 12 }, () => timedGql(server.url, LATEST)));
      const wall = Date.now() - started;
      const codes = results.map((r) => r.code);
      console.info(
        `[pool] 12 requests against a locked table, pool of 2: ${wall} ms; codes ${JSON.stringify(codes)}; slowest ${Math.max(...results.map((r) => r.ms)).toFixed(0)} ms`,
      );
      // Fast is shown by order, not by a duration: all twelve were answered while the lock is still held
      // (a request waiting for the lock would get no answer before the ROLLBACK below, and time out).
      for (const r of results) {
        expect(['TIMEOUT', 'SERVICE_UNAVAILABLE']).toContain(r.code);
        expect(r.status).toBe(503);
      }
      expect(codes).toContain('TIMEOUT'); // lock_timeout fired for those that had a connection
      await locker.query('ROLLBACK');

      const ok = await Promise.all(Array.from({ length: 6 }, () => timedGql(server.url, LATEST)));
      for (const r of ok) expect(r.body?.data?.latestIssue?.sections).toHaveLength(5);
      const rows = await activity(admin, 'pool_exhaust');
      // the pool's connections; the change signal's LISTEN connection is its own, one at most
      const server_ = rows.filter((r) => r.pid !== backendPid(locker));
      const others = server_.filter((r) => r.application_name !== CHANGE_SIGNAL_APPLICATION_NAME);
      console.info(
        `[pool] afterwards: ${others.length} pool connections, states ${JSON.stringify(others.map((r) => r.state))}`,
      );
      expect(others.length).toBeLessThanOrEqual(2);
      expect(server_.length - others.length).toBeLessThanOrEqual(1);
      expect(others.filter((r) => r.state?.startsWith('idle in transaction'))).toHaveLength(0);
    } finally {
      await locker.end();
      server.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    }
  });

  it('a slow statement is cancelled IN PostgreSQL by statement_timeout (57014), and imports may raise it with SET LOCAL', async () => {
    const url = await pgi.createDatabase('slow_query');
    const handle = await createDb({ url, statementTimeoutMs: 1_000, poolMax: 2 });
    try {
      const err = await handle.db.execute(sql`SELECT pg_sleep(10) AS slow_marker`).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeTruthy();
      // PostgreSQL itself cancelled it for the timeout (not the client giving up, not the 10 s running out)
      const failed = err as DriverError;
      expect(String(failed.cause?.message ?? failed.message)).toMatch(/statement timeout/);
      expect(failed.cause?.code ?? failed.code).toBe('57014');
      expect(isTimeout(err)).toBe(true);
      expect(isDatabaseUnavailable(err)).toBe(false);
      expect((maskError(err, 'Unexpected error.') as GraphQLError).extensions.code).toBe('TIMEOUT');
      const rows = await activity(admin, 'slow_query');
      expect(rows.filter((r) => r.query.includes('slow_marker') && r.state === 'active')).toHaveLength(0);
      console.info(`[slow] pg_sleep(10) cancelled by statement_timeout; no longer in pg_stat_activity`);

      // SET LOCAL raises the limit for one transaction only.
      await handle.db.transaction(async (tx) => {
        await setLocalStatementTimeout(tx as unknown as Db, 5_000);
        await tx.execute(sql`SELECT pg_sleep(1.5)`);
      });
      const [shown] = await selectRows<{ statement_timeout: string }>(handle.db, sql`SHOW statement_timeout`);
      expect(shown?.statement_timeout).toBe('1s');
      // the pool's sessions never compile statements with LLVM (20–30 ms per search at 1 M papers)
      const [jit] = await selectRows<{ jit: string }>(handle.db, sql`SHOW jit`);
      expect(jit?.jit).toBe('off');
    } finally {
      await handle.close();
    }
  });

  it('idle_in_transaction_session_timeout ends an abandoned transaction; the broken client is not returned to the pool', async () => {
    const url = await pgi.createDatabase('idle_tx');
    const handle = await createDb({ url, idleInTransactionTimeoutMs: 500, poolMax: 2 });
    try {
      const err = await handle.db
        .transaction(async (tx) => {
          await tx.execute(sql`SELECT 1`);
          await sleep(1_500);
          await tx.execute(sql`SELECT 2`);
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).toBeTruthy();
      const pool = handle.pool!;
      expect(pool.totalCount - pool.idleCount).toBe(0); // nothing checked out
      const [res] = await selectRows<{ answer: number }>(handle.db, sql`SELECT 42 AS answer`);
      expect(res?.answer).toBe(42);
    } finally {
      await handle.close();
    }
  });

  it("Drizzle's BEGIN leak: unpatched, a failing BEGIN keeps the pooled client forever; ours releases it", async () => {
    const url = await pgi.createDatabase('begin_leak');
    // Deliberately not an isolation level (the type says so): BEGIN fails with a syntax error.
    const bad = { isolationLevel: 'no such level' } as unknown as TransactionConfig;

    // 1. Unpatched drizzle-orm 0.45 over a pg Pool: the leak exists.
    const rawPool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 1_000 });
    rawPool.on('error', () => {});
    const raw = drizzle({ client: rawPool });
    for (let i = 0; i < 2; i++) await expect(raw.transaction(async () => {}, bad)).rejects.toThrow();
    const leaked = { total: rawPool.totalCount, idle: rawPool.idleCount };
    const starved = await raw.execute(sql`SELECT 1`).then(
      () => 'ok',
      (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
    );
    console.info(
      `[leak] unpatched after 2 failed BEGINs: total ${leaked.total}, idle ${leaked.idle}; next query: ${starved}`,
    );
    expect(leaked).toEqual({ total: 2, idle: 0 });
    expect(starved).toMatch(/timeout exceeded when trying to connect/);
    // pg's own list of the pool's clients (not in its types): the leaked ones, released by hand.
    for (const c of (rawPool as unknown as { _clients: Array<{ release?: () => void }> })._clients) c.release?.();
    await rawPool.end().catch(() => {});

    // 2. Ours: BEGIN failing (bad SQL, or the backend killed between connect and BEGIN) releases the client.
    const handle = await createDb({ url, poolMax: 2, connectTimeoutMs: 1_000 });
    try {
      const pool = handle.pool!;
      for (let i = 0; i < 5; i++) await expect(handle.db.transaction(async () => {}, bad)).rejects.toThrow();
      expect(pool.totalCount - pool.idleCount).toBe(0);

      // Kill every new backend right after it connects: BEGIN meets a dead connection.
      let killed = 0;
      const killer = (client: pg.PoolClient) => {
        killed++;
        process.kill(backendPid(client), 'SIGTERM');
      };
      // Empty the pool first so that the next transactions connect anew.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'begin_leak' AND pid <> pg_backend_pid()`,
      );
      await waitFor(() => pool.totalCount === 0, 5_000, 'idle clients dropped');
      pool.on('connect', killer);
      for (let i = 0; i < 4; i++) {
        const e = await handle.db
          .transaction(async (tx) => tx.execute(sql`SELECT 1`))
          .then(
            () => null,
            (x: unknown) => x,
          );
        expect(e).toBeTruthy();
        expect(isDatabaseUnavailable(e)).toBe(true);
      }
      pool.off('connect', killer);
      console.info(
        `[leak] ours: ${killed} backends killed between connect and BEGIN; pool total ${pool.totalCount}, idle ${pool.idleCount}`,
      );
      expect(killed).toBeGreaterThanOrEqual(4);
      expect(pool.totalCount - pool.idleCount).toBe(0);
      const [res] = await handle.db.transaction(async (tx) =>
        selectRows<{ seven: number }>(tx as unknown as Db, sql`SELECT 7 AS seven`),
      );
      expect(res?.seven).toBe(7);
      const rows = await activity(admin, 'begin_leak');
      expect(rows.length).toBeLessThanOrEqual(2);
    } finally {
      await handle.close();
    }
  });
});
