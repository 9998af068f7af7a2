import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { seedSample } from '../src/fixtures/seed.js';
import { type LimitsOptions, admitNodeRequest, createRateLimits, pointsOf } from '../src/http/pipeline/rate-limits.js';
import { type ResponseCacheOptions, createResponseCache } from '../src/http/pipeline/response-cache.js';
import { MAX_BODY_BYTES, type TierServed } from '../src/http/pipeline/response-tier.js';
import { authHeader } from './helpers/auth.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import {
  type AnyDocument,
  type GraphQLErrorBody,
  type ResultOfDocument,
  costOf,
  documentText,
} from './helpers/http.js';
import { graphql } from './graphql.js';

let tdb: TestDb;
let editor: Record<string, string>;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  editor = await authHeader(tdb.db);
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});
afterAll(async () => {
  await tdb?.destroy();
});

const READ_DOCUMENT = graphql(`{ latestIssue { id title sections { number papers { number title } } } }`);
// The tier works on the request's bytes: the tests send this text as it is, padded or not.
const READ = documentText(READ_DOCUMENT);
const GENEROUS: LimitsOptions = {
  rateLimit: { points: 1_000_000, durationSec: 3600, maxInFlight: 100 },
  trustProxy: false,
};

/** A real server as src/server.ts builds it: the response tier in front of the app, sharing its rate limits. */
async function serve(options: { cache?: Partial<ResponseCacheOptions>; limits?: LimitsOptions } = {}) {
  const limits = createRateLimits(options.limits ?? GENEROUS);
  const cache = createResponseCache({ ttlMs: 60_000, ...options.cache });
  const app = createApp({ db: tdb.db, responseCache: cache, limits });
  const served: TierServed[] = [];
  let n = 0;
  const handler = cache.responses.handler((req: IncomingMessage, res: ServerResponse) => app(req, res), {
    admit: admitNodeRequest(limits),
    requestId: () => `tier-${++n}`,
    onServed: (s) => served.push(s),
  });
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url, served, cache, limits };
}

/** A response body as read here: `data` is the document's result; for a text, READ's (the texts sent are READ's bytes or a refused query). */
interface Body<T> {
  data?: T | null;
  errors?: GraphQLErrorBody[];
  extensions?: Record<string, unknown>;
}

async function post<D extends AnyDocument | string>(
  url: string,
  query: D,
  headers: Record<string, string> = {},
  variables?: Record<string, unknown>,
) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query: typeof query === 'string' ? query : documentText(query), variables }),
  });
  const text = await res.text();
  type Data = D extends string ? ResultOfDocument<typeof READ_DOCUMENT> : ResultOfDocument<D>;
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text || 'null') as Body<Data> };
}

/** Response headers without those made per request. */
function stableHeaders(headers: Headers) {
  return [...headers].filter(([name]) => !/^(x-request-id|x-ratelimit-.*|date|connection|keep-alive)$/.test(name));
}

async function rename(url: string, title: string) {
  const { id, version } = (await post(url, graphql(`{ issue(slug: "2025-05-05") { id version } }`), editor)).json.data!
    .issue!;
  const res = await post(
    url,
    graphql(
      `mutation($id: ID!, $v: Int!, $t: String!) { updateIssue(input: { id: $id, version: $v, title: $t }) { __typename } }`,
    ),
    editor,
    { id, v: version, t: title },
  );
  expect(res.json.data!.updateIssue.__typename).toBe('UpdateIssuePayload');
}

describe('response tier (before Yoga)', () => {
  it('answers repeated anonymous reads with the bytes and headers Yoga sent, without SQL, charging each', async () => {
    const { url, served } = await serve();
    tdb.resetStatements();
    const first = await post(url, READ);
    expect(first.status).toBe(200);
    expect(first.json.errors).toBeUndefined();
    expect(tdb.statements.length).toBeGreaterThan(0);
    expect(served).toHaveLength(0); // computed by Yoga

    tdb.resetStatements();
    const second = await post(url, READ); // from the result cache inside Yoga: recorded
    expect(served).toHaveLength(0);
    const third = await post(url, READ);
    const fourth = await post(url, READ);
    expect(tdb.statements).toHaveLength(0);
    expect(served).toHaveLength(2);
    expect(second.text).toBe(first.text);
    expect(third.text).toBe(first.text);
    expect(fourth.text).toBe(first.text);
    expect(stableHeaders(third.headers)).toEqual(stableHeaders(second.headers));
    expect(third.headers.get('content-length')).toBe(String(Buffer.byteLength(first.text)));
    expect(third.headers.get('x-request-id')).toBe('tier-1');

    // each answer is charged the points of the cost the result was computed with, and says so in its headers
    const cost = costOf(first.json)!.requested;
    expect(cost).toBeGreaterThan(1);
    const points = costOf(first.json)!.points!;
    expect(points).toBe(pointsOf(cost));
    const remaining = (r: { headers: Headers }) => Number(r.headers.get('x-ratelimit-remaining'));
    expect(remaining(first) - remaining(second)).toBe(points);
    expect(remaining(second) - remaining(third)).toBe(points);
    expect(remaining(third) - remaining(fourth)).toBe(points);
    expect(served[0]).toMatchObject({
      method: 'POST',
      path: '/graphql',
      status: 200,
      cost,
      operationType: 'query',
      operationName: null,
    });
  });

  it('is never stale: every write is seen by the next read', async () => {
    const { url, served } = await serve();
    await post(url, READ);
    await post(url, READ);
    await post(url, READ);
    expect(served).toHaveLength(1);
    for (let i = 1; i <= 3; i++) {
      await rename(url, `Tier rename ${i}`);
      const after = await post(url, READ);
      expect(after.json.data!.latestIssue!.title).toBe(`Tier rename ${i}`);
      expect((await post(url, READ)).text).toBe(after.text);
      expect((await post(url, READ)).text).toBe(after.text);
    }
    expect(served).toHaveLength(4); // one replay per generation, never across a write
  });

  it('keys on the headers a response depends on: Origin (CORS), Accept; GET with the query in the URL', async () => {
    const { url, served } = await serve({});
    const a1 = await post(url, READ, { origin: 'https://a.example' });
    const b1 = await post(url, READ, { origin: 'https://b.example' });
    // (b1 came from the result cache, computed for a1: recorded for b; this one is recorded for a)
    await post(url, READ, { origin: 'https://a.example' });
    expect(served).toHaveLength(0);
    const a2 = await post(url, READ, { origin: 'https://a.example' });
    const b2 = await post(url, READ, { origin: 'https://b.example' });
    expect(served).toHaveLength(2);
    expect(a2.headers.get('access-control-allow-origin')).toBe(a1.headers.get('access-control-allow-origin'));
    expect(b2.headers.get('access-control-allow-origin')).toBe(b1.headers.get('access-control-allow-origin'));
    expect(stableHeaders(a2.headers)).toEqual(stableHeaders(a1.headers));

    const asGraphqlResponse = await post(url, READ, { accept: 'application/graphql-response+json' });
    expect(served).toHaveLength(2);
    const again = await post(url, READ, { accept: 'application/graphql-response+json' });
    expect(served).toHaveLength(3);
    expect(again.headers.get('content-type')).toBe(asGraphqlResponse.headers.get('content-type'));

    const get = `${url}?query=${encodeURIComponent(READ)}`;
    const headers = { 'x-graphql-yoga-csrf': '1', accept: 'application/json' };
    const g1 = await fetch(get, { headers });
    const g1text = await g1.text();
    const g2 = await fetch(get, { headers });
    expect(await g2.text()).toBe(g1text);
    expect(served).toHaveLength(4);
    // conditional GETs stay Yoga's: 304 from the ETag
    const notModified = await fetch(get, { headers: { ...headers, 'if-none-match': g2.headers.get('etag')! } });
    expect(notModified.status).toBe(304);
    expect(served).toHaveLength(4);
  });

  it('CORS: headers CORS echoes keep a request away from the tier; an empty Origin is not a missing one', async () => {
    const { url, served } = await serve();
    const origin = 'https://a.example';
    // CORS echoes Access-Control-Request-* into its answer: such a request is neither replayed nor recorded
    const odd = await post(url, READ, {
      origin,
      'access-control-request-headers': 'x-injected',
      'access-control-request-method': 'DELETE',
    });
    expect(odd.headers.get('access-control-allow-headers')).toBe('x-injected');
    const odd2 = await post(url, READ, {
      origin,
      'access-control-request-headers': 'x-injected',
      'access-control-request-method': 'DELETE',
    });
    expect(odd2.status).toBe(200);
    expect(served).toHaveLength(0);
    await post(url, READ, { origin }); // from the result cache: recorded
    const plain = await post(url, READ, { origin });
    expect(served).toHaveLength(1);
    expect(plain.headers.get('access-control-allow-headers')).toBeNull();
    expect(plain.headers.get('access-control-allow-methods') ?? '').not.toContain('DELETE');

    const empty = await post(url, `${READ} `, { origin: '' });
    await post(url, `${READ} `, { origin: '' });
    await post(url, `${READ} `, { origin: '' });
    expect(served).toHaveLength(2);
    const none = await post(url, `${READ} `);
    expect(served).toHaveLength(2); // not the empty-Origin response
    expect(stableHeaders(none.headers).map(([name]) => name)).not.toContain('access-control-max-age');
    expect(stableHeaders(empty.headers).map(([name]) => name)).toContain('access-control-max-age');
  });

  it('never answers a request with a token, and records no response with errors', async () => {
    const { url, served } = await serve();
    await post(url, READ, editor);
    await post(url, READ, editor);
    expect(served).toHaveLength(0);
    const bad = '{ paper(issue: "2025-05-05", number: "not a number") { title } }';
    const first = await post(url, bad);
    expect(first.json.errors?.length).toBeGreaterThan(0);
    await post(url, bad);
    const invalid = '{ latestIssue { noSuchField } }';
    await post(url, invalid);
    await post(url, invalid);
    expect(served).toHaveLength(0);
  });

  it("a client out of points gets Yoga's 429, cached or not; a client with a full quota in flight too", async () => {
    const { url, served, limits } = await serve({
      limits: { rateLimit: { points: 20, durationSec: 3600, maxInFlight: 5 }, trustProxy: false },
    });
    const first = await post(url, READ);
    await post(url, READ);
    await post(url, READ);
    expect(served).toHaveLength(1);
    // five requests of this client in flight (as if still computing): the sixth is refused, not replayed
    limits.inFlight.set('ip:127.0.0.1', 5);
    const crowded = await post(url, READ);
    expect(crowded.status).toBe(429);
    expect(crowded.json.errors![0]!.message).toMatch(/in flight/);
    expect(served).toHaveLength(1);
    limits.inFlight.delete('ip:127.0.0.1');
    const points = costOf(first.json)!.points!;
    let last = first;
    let answered = 3;
    while (last.status === 200 && answered < 1_000) {
      last = await post(url, READ);
      answered++;
    }
    expect(last.status).toBe(429);
    expect(last.json.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(answered).toBe(Math.ceil(20 / points) + 1);
    expect(served.length).toBe(answered - 3); // the first computed, the second from the result cache
  });

  it('bodies beyond its bound and other methods go to Yoga, which answers them as before', async () => {
    const { url, served } = await serve();
    const padded = `${READ}${' '.repeat(MAX_BODY_BYTES)}`;
    const a = await post(url, padded);
    const b = await post(url, padded);
    expect(b.text).toBe(a.text);
    expect(a.json.data!.latestIssue!.title).toBeTruthy();
    expect(served).toHaveLength(0);
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBeLessThan(300);
  });

  it('stops answering when the result expires', async () => {
    const { url, served } = await serve({ cache: { ttlMs: 1_000 } });
    await post(url, READ);
    await post(url, READ); // recorded
    // Last-Modified has whole seconds: an entry expires at most a second before the result does
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    tdb.resetStatements();
    await post(url, READ);
    expect(served).toHaveLength(0);
    expect(tdb.statements.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!process.env.REDIS_URL)('response tier with the cache shared through Redis (needs REDIS_URL)', () => {
  it('a write through instance B is seen at once by instance A, whose tier held the old response', async () => {
    const redisA = new Redis(process.env.REDIS_URL!);
    const redisB = new Redis(process.env.REDIS_URL!);
    closers.push(async () => {
      redisA.disconnect();
      redisB.disconnect();
    });
    const namespace = `tier-${randomBytes(4).toString('hex')}`;
    const a = await serve({ cache: { redis: redisA, namespace } });
    const b = await serve({ cache: { redis: redisB, namespace } });
    await post(a.url, READ);
    await post(a.url, READ);
    await post(a.url, READ);
    expect(a.served).toHaveLength(1);
    for (let i = 1; i <= 3; i++) {
      await rename(b.url, `Through B ${i}`);
      const seen = await post(a.url, READ);
      expect(seen.json.data!.latestIssue!.title).toBe(`Through B ${i}`);
      expect((await post(a.url, READ)).text).toBe(seen.text);
      expect((await post(a.url, READ)).text).toBe(seen.text);
    }
    expect(a.served).toHaveLength(4);
  });

  it('generations never repeat: after Redis lost the cache (restart, eviction) an old response is not current again', async () => {
    const redisA = new Redis(process.env.REDIS_URL!);
    const redisB = new Redis(process.env.REDIS_URL!);
    closers.push(async () => {
      redisA.disconnect();
      redisB.disconnect();
    });
    const namespace = `tier-${randomBytes(4).toString('hex')}`;
    const a = await serve({ cache: { redis: redisA, namespace } });
    const b = await serve({ cache: { redis: redisB, namespace } });
    const before = (await post(a.url, READ)).json.data!.latestIssue!.title;
    await post(a.url, READ);
    await post(a.url, READ);
    expect(a.served).toHaveLength(1); // A's tier holds the response, in the current generation
    await rename(b.url, `${before} (after a reset)`);
    // Redis comes back empty: the generation key is gone with the results
    const keys = await redisA.keys(`llmp:cache:${namespace}:*`);
    expect(keys.length).toBeGreaterThan(0);
    await redisA.del(...keys);
    const seen = await post(a.url, READ);
    expect(seen.json.data!.latestIssue!.title).toBe(`${before} (after a reset)`);
    expect(a.served).toHaveLength(1);
  });
});
