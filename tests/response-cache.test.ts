import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { seedSample } from '../src/fixtures/seed.js';
import { createResponseCache } from '../src/http/pipeline/response-cache.js';
import { authHeader } from './helpers/auth.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { documentText, gql } from './helpers/http.js';
import { type ResultOf, graphql } from './graphql.js';

let tdb: TestDb;
let editor: Record<string, string>;

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  editor = await authHeader(tdb.db);
});
afterAll(async () => {
  await tdb?.destroy();
});

const READ = graphql(
  `{ latestIssue { id version title sections { number papers { number title } } } papers(first: 3) { totalCount nodes { title } } }`,
);

async function readCounted(app: App) {
  tdb.resetStatements();
  const res = await gql(app, READ);
  expect(res.body.errors).toBeUndefined();
  return { data: res.body.data!, statements: tdb.statements.length };
}

async function rename(app: App, title: string) {
  const { id, version } = (await gql(app, graphql(`{ issue(slug: "2025-05-05") { id version } }`), undefined, editor))
    .body.data!.issue!;
  const res = await gql(
    app,
    graphql(
      `mutation($id: ID!, $v: Int!, $t: String!) { updateIssue(input: { id: $id, version: $v, title: $t }) { __typename } }`,
    ),
    { id, v: version, t: title },
    editor,
  );
  expect(res.body.data!.updateIssue.__typename).toBe('UpdateIssuePayload');
}

describe('response cache (in memory)', () => {
  it('serves repeated anonymous reads without SQL and is never stale after a mutation', async () => {
    const app = createApp({ db: tdb.db, responseCache: createResponseCache({ ttlMs: 60_000 }) });
    const first = await readCounted(app);
    expect(first.statements).toBeGreaterThan(0);
    const second = await readCounted(app);
    expect(second.statements).toBe(0);
    expect(second.data).toEqual(first.data);

    for (let i = 1; i <= 3; i++) {
      await rename(app, `Renamed ${i}`);
      const after = await readCounted(app);
      expect(after.data.latestIssue!.title).toBe(`Renamed ${i}`);
      expect(after.statements).toBeGreaterThan(0);
    }
    // a paper change (an entity deep inside the cached result) invalidates too
    await readCounted(app);
    const paper = (
      await gql(app, graphql(`{ paper(issue: "2025-05-05", number: "1.1") { id version } }`), undefined, editor)
    ).body.data!.paper!;
    await gql(
      app,
      graphql(
        `mutation($id: ID!, $v: Int!) { updatePaper(input: { id: $id, version: $v, title: "A new first title" }) { __typename } }`,
      ),
      { id: paper.id, v: paper.version },
      editor,
    );
    expect((await readCounted(app)).data.latestIssue!.sections[0]!.papers[0]!.title).toBe('A new first title');
  });

  it('a miss is computed by the compiled executor and stored by the cache, without warnings; hits are identical', async () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      const cached = createApp({ db: tdb.db, responseCache: createResponseCache({ ttlMs: 60_000 }) });
      const plain = createApp({ db: tdb.db });
      const miss = await gql(cached, READ);
      const hit = await gql(cached, READ);
      const reference = await gql(plain, READ);
      expect(miss.body).toEqual(reference.body);
      expect(hit.body).toEqual(reference.body);
      // the library warns when another plugin replaced its execute wrapper (a miss then would not be its own)
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('never serves a draft to an anonymous reader; requests with a token bypass the cache', async () => {
    const app = createApp({ db: tdb.db, responseCache: createResponseCache({ ttlMs: 60_000 }) });
    const q = graphql(`{ issues(filter: { status: DRAFT }) { totalCount nodes { slug } } }`);
    await gql(
      app,
      graphql(
        `mutation { createIssue(input: { slug: "cached-draft", title: "Draft", weekStart: "2026-03-02" }) { __typename } }`,
      ),
      undefined,
      editor,
    );
    const asEditor = await gql(app, q, undefined, editor);
    expect(asEditor.body.data!.issues.totalCount).toBe(1);
    const anonymous = await gql(app, q);
    expect(anonymous.body.data!.issues).toEqual({ totalCount: 0, nodes: [] });
    tdb.resetStatements();
    await gql(app, q, undefined, editor);
    expect(tdb.statements.length).toBeGreaterThan(0); // not served from a cache
  });

  it('ETag / If-None-Match on GET queries: 304 until something changes', async () => {
    const app = createApp({ db: tdb.db, responseCache: createResponseCache({ ttlMs: 60_000 }) });
    const LATEST_TITLE = graphql(`{ latestIssue { title } }`);
    const url = `http://localhost/graphql?query=${encodeURIComponent(documentText(LATEST_TITLE))}`;
    const headers = { 'x-graphql-yoga-csrf': '1', accept: 'application/json' };
    const first = await app.fetch(url, { headers });
    expect(first.status).toBe(200);
    await first.text();
    // the first response was computed; its ETag is known once it is cached
    const second = await app.fetch(url, { headers });
    const etag = second.headers.get('etag');
    expect(etag).toBeTruthy();
    await second.text();
    const notModified = await app.fetch(url, { headers: { ...headers, 'if-none-match': etag! } });
    expect(notModified.status).toBe(304);
    await rename(app, 'Changed behind the ETag');
    const changed = await app.fetch(url, { headers: { ...headers, 'if-none-match': etag! } });
    expect(changed.status).toBe(200);
    const body = (await changed.json()) as { data: ResultOf<typeof LATEST_TITLE> };
    expect(body.data.latestIssue!.title).toBe('Changed behind the ETag');
  });
});

describe.skipIf(!process.env.REDIS_URL)('response cache shared through Redis (needs REDIS_URL)', () => {
  it('a read repeated while its result is still being stored in Redis is served from the cache', async () => {
    const redis = new Redis(process.env.REDIS_URL!);
    // Redis slow to store: every pipeline (the cache's store) is sent 300 ms late.
    const slow = new Proxy(redis, {
      get(target, prop, receiver) {
        if (prop !== 'pipeline') return Reflect.get(target, prop, receiver);
        return (...args: unknown[]) => {
          const pipeline = (target.pipeline as (...a: unknown[]) => ReturnType<Redis['pipeline']>)(...args);
          const exec = pipeline.exec.bind(pipeline);
          return Object.assign(pipeline, {
            exec: () => new Promise((resolve) => setTimeout(resolve, 300)).then(() => exec()),
          });
        };
      },
    });
    try {
      const namespace = `test-${randomBytes(4).toString('hex')}`;
      const app = createApp({
        db: tdb.db,
        responseCache: createResponseCache({ ttlMs: 60_000, redis: slow, namespace }),
      });
      expect((await readCounted(app)).statements).toBeGreaterThan(0);
      expect((await readCounted(app)).statements).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('an invalidation in another namespace on the same Redis leaves this one cached, and stores nothing outside its namespace', async () => {
    const redis = new Redis(process.env.REDIS_URL!);
    try {
      const namespace = `test-${randomBytes(4).toString('hex')}`;
      const ours = createResponseCache({ ttlMs: 60_000, redis, namespace });
      const app = createApp({ db: tdb.db, responseCache: ours });
      await readCounted(app);
      expect((await readCounted(app)).statements).toBe(0);
      const keys = await redis.keys(`*${namespace}*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => k.startsWith(`llmp:cache:${namespace}:`))).toBe(true);
      const other = createResponseCache({ ttlMs: 60_000, redis, namespace: `${namespace}-other` });
      await other.invalidate();
      expect((await readCounted(app)).statements).toBe(0);
      // each stored result expires with the cache's TTL
      const stored = keys.filter((k) => k.includes(':r:'));
      expect(stored.length).toBeGreaterThan(0);
      for (const k of stored) expect(await redis.pttl(k)).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('a write through instance B is seen at once by instance A', async () => {
    const redisA = new Redis(process.env.REDIS_URL!);
    const redisB = new Redis(process.env.REDIS_URL!);
    const namespace = `test-${randomBytes(4).toString('hex')}`;
    try {
      const a = createApp({
        db: tdb.db,
        responseCache: createResponseCache({ ttlMs: 60_000, redis: redisA, namespace }),
      });
      const b = createApp({
        db: tdb.db,
        responseCache: createResponseCache({ ttlMs: 60_000, redis: redisB, namespace }),
      });
      await readCounted(a);
      expect((await readCounted(a)).statements).toBe(0); // cached in Redis
      expect((await readCounted(b)).statements).toBe(0); // B reads A's cached result
      for (let i = 1; i <= 3; i++) {
        await rename(b, `Through B ${i}`);
        const seen = await readCounted(a);
        expect(seen.data.latestIssue!.title).toBe(`Through B ${i}`);
      }
    } finally {
      redisA.disconnect();
      redisB.disconnect();
    }
  });
});
