import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, type Socket, connect as connectTcp, createServer as createNetServer } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import {
  CHANGE_CHANNEL,
  CHANGE_SIGNAL_APPLICATION_NAME,
  type ChangeSignal,
  type ChangeSignalOptions,
  createChangeSignal,
} from '../src/db/change-signal.js';
import { seedSample } from '../src/fixtures/seed.js';
import { type ResponseCacheOptions, createResponseCache } from '../src/http/pipeline/response-cache.js';
import type { TierServed } from '../src/http/pipeline/response-tier.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { documentText } from './helpers/http.js';
import { type ResultOf, graphql } from './graphql.js';

/**
 * The response cache follows the database's change notifications: a write
 * made outside the API (raw SQL on another connection, or on the PGlite
 * instance without going through the API) is announced by the database, and
 * the first read after the announcement sees it. No assertion reads the clock
 * (a loaded machine may be slow, never wrong); the delays are measured and
 * printed. Runs on PGlite, or on PostgreSQL with DATABASE_URL (and Redis with REDIS_URL).
 */

const onPostgres = Boolean(process.env.DATABASE_URL);
const SLUG = '2025-05-05';
const READ = graphql(
  `query Read($slug: String!) { issue(slug: $slug) { title sections { number papers { number title } } } }`,
);
/** How long a test waits for something that must happen (a liveness guard, not a speed requirement). */
const PATIENCE_MS = 10_000;

let tdb: TestDb;
/** Raw SQL outside the API: a separate connection (PostgreSQL), or the PGlite instance itself. */
let outside: { query(text: string, params: unknown[]): Promise<unknown>; close(): Promise<void> };
const closers: Array<() => Promise<void>> = [];

const databaseUrl = () => (tdb.pool!.options as { connectionString: string }).connectionString;

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  if (onPostgres) {
    const client = new pg.Client({ connectionString: databaseUrl() });
    client.on('error', () => {});
    await client.connect();
    outside = { query: (text, params) => client.query(text, params), close: () => client.end() };
  } else {
    outside = { query: (text, params) => tdb.pglite!.query(text, params), close: async () => {} };
  }
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});
afterAll(async () => {
  await outside?.close();
  await tdb?.destroy();
});

const retitle = (title: string) => outside.query('UPDATE issues SET title = $1 WHERE slug = $2', [title, SLUG]);

/** As src/server.ts runs it: the response tier in front of the app, the cache following the change signal. */
async function serve(options: { cache?: Partial<ResponseCacheOptions>; signal?: Partial<ChangeSignalOptions> } = {}) {
  let signal: ChangeSignal | undefined;
  const cache = createResponseCache({ ttlMs: 60_000, healthy: () => signal?.healthy() ?? false, ...options.cache });
  /** Completed invalidations: the table and when its invalidation had settled. */
  const invalidations: Array<{ table: string; at: number }> = [];
  signal = await createChangeSignal({
    handle: tdb,
    onChange: async (table) => {
      await cache.invalidate();
      invalidations.push({ table, at: performance.now() });
    },
    onStatus: () => {},
    ...options.signal,
  });
  const app = createApp({ db: tdb.db, responseCache: cache });
  const served: TierServed[] = [];
  const server = createServer(
    cache.responses.handler((req: IncomingMessage, res: ServerResponse) => app(req, res), {
      onServed: (s) => served.push(s),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  closers.push(async () => {
    await signal!.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  /** One anonymous read: its title and how many SQL statements it cost (0: served from a cache). */
  const read = async () => {
    tdb.resetStatements();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: documentText(READ), variables: { slug: SLUG } }),
    });
    const body = (await res.json()) as { data?: ResultOf<typeof READ>; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return { title: body.data!.issue!.title, statements: tdb.statements.length };
  };
  return { signal, cache, read, served, invalidations };
}

/** Polls `check` until it is true; the time it took (ms), or throws after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads until one is cached (no SQL), as the cache does it: computed, then from the result cache, then from the tier. */
async function warm(read: Awaited<ReturnType<typeof serve>>['read'], served: TierServed[]) {
  const first = await read();
  expect(first.statements).toBeGreaterThan(0);
  expect((await read()).statements).toBe(0); // result cache (recorded by the tier)
  const before = served.length;
  expect((await read()).statements).toBe(0); // response tier
  expect(served.length).toBe(before + 1);
  return first.title;
}

/**
 * Commits a new title outside the API and waits for the database to announce it (the invalidation
 * has settled): the very next read must then see the new title, computed afresh.
 */
async function changeOutsideAndRead(
  { read, invalidations }: Pick<Awaited<ReturnType<typeof serve>>, 'read' | 'invalidations'>,
  title: string,
) {
  const announced = () => invalidations.filter((x) => x.table === 'issues').length;
  const before = announced();
  await retitle(title);
  await until(() => announced() > before, PATIENCE_MS, `the change to "${title}" is announced`);
  const next = await read();
  expect(next).toMatchObject({ title });
  expect(next.statements).toBeGreaterThan(0);
}

describe(`change signal (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('a write made outside the API is seen by the next reads, through both cache tiers', async () => {
    const serving = await serve();
    const { read, served, signal } = serving;
    expect(signal.healthy()).toBe(true);
    await warm(read, served);
    for (let i = 1; i <= 3; i++) {
      await changeOutsideAndRead(serving, `Changed outside ${i}`);
      // and caching goes on in the new generation, up to the response tier
      const before = served.length;
      expect(await read()).toEqual({ title: `Changed outside ${i}`, statements: 0 });
      expect(await read()).toEqual({ title: `Changed outside ${i}`, statements: 0 });
      expect(served.length).toBe(before + 1);
    }
  });

  it.skipIf(!process.env.REDIS_URL)('with the cache in Redis (REDIS_URL)', async () => {
    const redis = new Redis(process.env.REDIS_URL!);
    closers.push(async () => redis.disconnect());
    const serving = await serve({ cache: { redis, namespace: `test-${randomBytes(4).toString('hex')}` } });
    const { read, served } = serving;
    await warm(read, served);
    for (let i = 1; i <= 2; i++) {
      await changeOutsideAndRead(serving, `Changed outside, Redis ${i}`);
      expect(await read()).toEqual({ title: `Changed outside, Redis ${i}`, statements: 0 });
    }
  });

  it('serves nothing while the signal is not healthy, and stops on close', async () => {
    const { read, served, signal, invalidations } = await serve();
    await warm(read, served);
    await signal.close();
    expect(signal.healthy()).toBe(false);
    const before = served.length;
    for (let i = 0; i < 3; i++) expect((await read()).statements).toBeGreaterThan(0);
    expect(served.length).toBe(before);
    // closed: notifications are no longer followed
    const seen = invalidations.length;
    await retitle('After close');
    signal.dispatch(CHANGE_CHANNEL, 'issues');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(invalidations.length).toBe(seen);
  });

  it('routes notifications handed to dispatch (the PGlite bridge) to onChange, other channels not', async () => {
    const tables: string[] = [];
    const signal = await createChangeSignal({ handle: tdb, onChange: (table) => void tables.push(table) });
    closers.push(() => signal.close());
    expect(tables).toEqual(['*']); // every (re)connection: changes may have been missed
    signal.dispatch(CHANGE_CHANNEL, 'papers');
    signal.dispatch('another_channel', 'issues');
    expect(tables).toEqual(['*', 'papers']);
    // and what the database announces itself: once per table and transaction
    await retitle('Announced');
    await until(() => tables.includes('issues'), PATIENCE_MS, 'the UPDATE is announced');
    expect(tables.filter((t) => t === 'issues')).toHaveLength(1);
  });

  it.each(process.env.REDIS_URL ? ['in-memory', 'Redis'] : ['in-memory'])(
    'measures the delay from commit to invalidation (50 commits, %s cache)',
    async (kind) => {
      let redis: Redis | undefined;
      if (kind === 'Redis') {
        redis = new Redis(process.env.REDIS_URL!);
        closers.push(async () => redis!.disconnect());
      }
      const { invalidations } = await serve(
        redis ? { cache: { redis, namespace: `test-${randomBytes(4).toString('hex')}` } } : {},
      );
      const fromCommit: number[] = [];
      const fromStatement: number[] = [];
      const announcedOnce = () => expect(invalidations.filter((x) => x.table === 'issues')).toHaveLength(1);
      for (let i = 0; i < 50; i++) {
        if (i > 0) announcedOnce(); // the previous commit: one invalidation, no late duplicate
        invalidations.length = 0;
        const sent = performance.now();
        await retitle(`Delay trial ${i}`);
        const committed = performance.now();
        await until(() => invalidations.some((x) => x.table === 'issues'), PATIENCE_MS, `trial ${i} invalidated`);
        const at = invalidations.find((x) => x.table === 'issues')!.at;
        // negative: the invalidation settled before the writer had the COMMIT's answer
        fromCommit.push(at - committed);
        fromStatement.push(at - sent);
      }
      const stats = (xs: number[]) => {
        const sorted = [...xs].sort((a, b) => a - b);
        return {
          median: +sorted[Math.floor(sorted.length / 2)]!.toFixed(2),
          p90: +sorted[Math.floor(sorted.length * 0.9)]!.toFixed(2),
          max: +sorted.at(-1)!.toFixed(2),
        };
      };
      console.info(
        `[change-signal delay, ${onPostgres ? 'PostgreSQL' : 'PGlite'}, ${kind} cache, 50 commits, ms] ` +
          `writer's COMMIT acknowledged → invalidation settled ${JSON.stringify(stats(fromCommit))}; ` +
          `UPDATE sent → invalidation settled ${JSON.stringify(stats(fromStatement))}`,
      );
      // Printed, not asserted: a delay is the machine's load as much as the code's. What is asserted:
      // every commit was announced, once.
      announcedOnce();
      expect(fromStatement).toHaveLength(50);
    },
  );
});

describe.skipIf(!onPostgres)('change signal: the listener connection is lost (PostgreSQL)', () => {
  const killListener = async () => {
    const admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ pg_terminate_backend: boolean; application_name: string }>(
        `SELECT pg_terminate_backend(pid), application_name FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()`,
      );
      return rows;
    } finally {
      await admin.end();
    }
  };

  it('serves nothing stale while disconnected, reconnects, and caching resumes', async () => {
    // a first retry after >= 1.1 s: the disconnected window is long enough to read in
    const serving = await serve({ signal: { retryMinMs: 1_500 } });
    const { read, served, signal } = serving;
    await warm(read, served);

    const killed = await killListener();
    expect(killed).toHaveLength(1);
    expect(killed[0]).toMatchObject({ pg_terminate_backend: true, application_name: CHANGE_SIGNAL_APPLICATION_NAME });
    await until(() => !signal.healthy(), PATIENCE_MS, 'the signal notices the lost connection');
    // not served from either tier, although nothing changed yet
    const before = served.length;
    expect((await read()).statements).toBeGreaterThan(0);
    expect((await read()).statements).toBeGreaterThan(0);
    // a change now is announced to nobody: the reconnection must make up for it
    await retitle('Changed while disconnected');
    const during = await read();
    expect(during.title).toBe('Changed while disconnected');
    expect(during.statements).toBeGreaterThan(0);
    expect(signal.healthy()).toBe(false); // all of the above happened while disconnected
    expect(served.length).toBe(before);

    await until(() => signal.healthy(), PATIENCE_MS, 'the listener reconnects');
    // the result cache still holds the first generation's entries: the reconnection's bump makes them unreachable
    expect(await warm(read, served)).toBe('Changed while disconnected');
    // and changes are followed again
    await changeOutsideAndRead(serving, 'Changed after reconnecting');
  });

  it('finds a connection that went silent (no FIN: a partition) by its heartbeat, and reconnects', async () => {
    // a TCP proxy to the database that can stop forwarding without closing anything
    let silent = false;
    const sockets = new Set<Socket>();
    const proxy = createNetServer((down) => {
      const target = new URL(databaseUrl());
      const up = connectTcp(Number(target.port || 5432), target.hostname);
      for (const s of [down, up]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          sockets.delete(s);
          down.destroy();
          up.destroy();
        });
      }
      down.on('data', (d) => void (silent || up.write(d)));
      up.on('data', (d) => void (silent || down.write(d)));
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const viaProxy = new URL(databaseUrl());
    viaProxy.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const pool = new pg.Pool({ connectionString: viaProxy.toString() });
    closers.push(async () => {
      await pool.end();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    });

    const tables: string[] = [];
    const signal = await createChangeSignal({
      handle: { kind: 'postgres', pool },
      onChange: (table) => void tables.push(table),
      heartbeatMs: 100,
      connectTimeoutMs: 300,
      retryMinMs: 50,
      retryMaxMs: 200,
    });
    closers.push(() => signal.close());
    expect(signal.healthy()).toBe(true);
    await retitle('Heard through the proxy');
    await until(() => tables.includes('issues'), PATIENCE_MS, 'the change is heard');

    silent = true;
    await until(() => !signal.healthy(), PATIENCE_MS, 'the heartbeat finds the silent connection');
    await retitle('Unheard'); // its notification is lost
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(signal.healthy()).toBe(false); // attempts through the silent proxy time out
    silent = false;
    await until(() => signal.healthy(), PATIENCE_MS, 'the listener reconnects');
    expect(tables.filter((t) => t === '*')).toHaveLength(2); // at the start, and for what may have been missed
  });

  it('keeps retrying while the database refuses it, then recovers', async () => {
    const statuses: string[] = [];
    const { read, served, signal } = await serve({
      signal: { retryMinMs: 50, retryMaxMs: 200, onStatus: (s) => void statuses.push(s.event) },
    });
    await warm(read, served);
    // refuse new connections to this database for a while, then kill the listener
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    const name = new URL(databaseUrl()).pathname.slice(1);
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = $1`,
        [name],
      );
      await until(() => statuses.filter((s) => s === 'lost').length >= 3, PATIENCE_MS, 'several failed reconnections');
      expect(signal.healthy()).toBe(false);
      expect((await read()).statements).toBeGreaterThan(0);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    await until(() => signal.healthy(), PATIENCE_MS, 'the listener reconnects');
    expect(statuses.at(-1)).toBe('listening');
    await warm(read, served);
  });
});
