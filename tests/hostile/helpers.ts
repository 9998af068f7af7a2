import { readFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PerformanceEntry, PerformanceObserver, performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterEach, expect } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { seedSample } from '../../src/fixtures/seed.js';
import { type LimitsOptions, admitNodeRequest, createRateLimits } from '../../src/http/pipeline/rate-limits.js';
import { type ResponseCacheOptions, createResponseCache } from '../../src/http/pipeline/response-cache.js';
import type { TierServed } from '../../src/http/pipeline/response-tier.js';
import { type TestDb, createTestDb } from '../helpers/db.js';
import type { GraphQLErrorBody } from '../helpers/http.js';

// What the hostile tests share: a request sent and read whole, with what answering it cost
// the server (SQL statements the TestDb saw, CPU time of this process: the app runs in it).

/** A TestDb for one test file, seeded with the sample archive. */
export async function seededTestDb(): Promise<TestDb> {
  const tdb = await createTestDb();
  await seedSample(tdb.db);
  return tdb;
}

/** CPU (user + system, ms) a refusal may cost the server. */
export const CPU_BUDGET_MS = 50;

/**
 * `data` of a hostile request: its document is built by the test (malformed, generated, repeated
 * thousands of times), so no schema types it; each test reads the fields it expects.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; typed documents use ResultOf instead
export type UntypedData = Record<string, any>;

/** A GraphQL response body; `data` is T. */
export interface ResponseBody<T = UntypedData> {
  data?: T | null;
  errors?: GraphQLErrorBody[];
  extensions?: Record<string, unknown>;
}

/** A response read whole, with the SQL statements and the CPU time it took. */
export interface Sent<T = UntypedData> {
  status: number;
  headers: Headers;
  /**
   * The body parsed as JSON, read as a GraphQL response; its text where it is not JSON (an empty
   * 404, a 304): then none of these fields is there.
   */
  body: ResponseBody<T>;
  text: string;
  /** SQL statements the TestDb saw from the request on. */
  statements: number;
  /** CPU time (user + system, ms) of this process from the request until the body was read. */
  cpuMs: number;
}

// CPU is read on the main thread (process.threadCpuUsage, Node 22.19+/24; on Node 20 the
// thread's run time in /proc/thread-self/schedstat, Linux), so the compiler's and collector's
// background threads do not count; the collector's pauses on the main thread are subtracted (a
// major collection of what earlier tests left can take 100 ms of a request that did nothing).
// Elsewhere, the whole process's CPU.
const threadCpuMs: () => number = (() => {
  // biome-ignore lint/suspicious/noExplicitAny: not in @types/node for Node 20
  const threadCpuUsage = (process as any).threadCpuUsage as (() => NodeJS.CpuUsage) | undefined;
  if (threadCpuUsage) {
    return () => {
      const u = threadCpuUsage.call(process);
      return (u.user + u.system) / 1000;
    };
  }
  const schedstat = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  try {
    if (Number.isFinite(schedstat())) return schedstat;
  } catch {}
  return () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
})();

/** Pauses of the garbage collector ([start, end], performance.now() ms) not yet matched to a measurement. */
const gcPauses: [number, number][] = [];
const recordPauses = (entries: PerformanceEntry[]) => {
  for (const e of entries) gcPauses.push([e.startTime, e.startTime + e.duration]);
  if (gcPauses.length > 1000) gcPauses.splice(0, gcPauses.length - 1000);
};
const gcObserver = new PerformanceObserver((list) => recordPauses(list.getEntries()));
gcObserver.observe({ entryTypes: ['gc'] });

/**
 * Milliseconds of collector pauses within [from, to]. Node records a pause a turn of the event loop
 * after it; it is taken from the observer before it is delivered.
 */
async function gcPausedBetween(from: number, to: number): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  recordPauses(gcObserver.takeRecords());
  let paused = 0;
  for (const [start, end] of gcPauses) paused += Math.max(0, Math.min(end, to) - Math.max(start, from));
  return paused;
}

/**
 * CPU time (user + system, ms) of this process's main thread in `fn`, less the garbage collector's
 * pauses meanwhile (see above).
 */
export async function cpuOf<T>(fn: () => T | Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const from = performance.now();
  const start = threadCpuMs();
  const value = await fn();
  const used = threadCpuMs() - start;
  const paused = await gcPausedBetween(from, performance.now());
  return { value, cpuMs: Math.max(0, used - paused) };
}

/** `text` parsed as JSON, or `text` itself where it is not JSON. */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Sends a request (`request`) and reads its body, counting the SQL statements `tdb` saw and
 * this process's CPU time meanwhile. `strictJson`: a body that is not JSON throws.
 */
export async function measured<T = UntypedData>(
  tdb: TestDb,
  request: () => Response | Promise<Response>,
  options: { strictJson?: boolean } = {},
): Promise<Sent<T>> {
  tdb.resetStatements();
  const once = () =>
    cpuOf(async () => {
      const res = await request();
      return { res, text: await res.text() };
    });
  const {
    value: { res, text },
    cpuMs: first,
  } = await once();
  const statements = tdb.statements.length;
  let cpuMs = first;
  // This process's CPU time also counts a garbage collection or compilation that happened to fall
  // in the request: a refusal that looks slow is sent again (it changes nothing) and the least
  // time counts. Not 401/429: those are charged to budgets that tests count.
  for (let again = 0; again < 2 && cpuMs >= CPU_BUDGET_MS && REPEATABLE.has(res.status); again++) {
    cpuMs = Math.min(cpuMs, (await once()).cpuMs);
  }
  // a text that is not JSON stays a string (see Sent.body)
  const body = (options.strictJson ? JSON.parse(text) : parseBody(text)) as ResponseBody<T>;
  return { status: res.status, headers: res.headers, body, text, statements, cpuMs };
}

/** Refusals that may be sent again to measure their CPU time (see `measured`). */
const REPEATABLE = new Set([400, 403, 404, 405, 413, 415]);

/** A request through an app (app.fetch, in-process), or through a real server at the origin `target` (`http://127.0.0.1:port`). */
export async function fetchThrough(
  target: App | string,
  init: RequestInit,
  url = 'http://localhost/graphql',
): Promise<Response> {
  return typeof target === 'string'
    ? fetch(target + url.replace('http://localhost', ''), init)
    : target.fetch(url, init);
}

/** A GraphQL POST: `payload` as JSON (a string is sent as it is), asking for application/graphql-response+json. */
export function graphqlPost(payload: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  };
}

/** One hostile request (`run`) and the status, code and message it must get back. */
export interface HostileCase {
  name: string;
  run: () => Promise<Sent>;
  status: number;
  /** Expected error code (undefined: only the status and message are checked). */
  code?: string;
  message?: RegExp;
}

/** The code of the first error, if any. */
export const code = (r: Pick<Sent, 'body'>) => r.body?.errors?.[0]?.extensions?.code;

/** A rejection: its status and code, no SQL (or only `maxStatements`, a token lookup), under the CPU budget, no internals shown. */
export function expectRejected(r: Sent, status: number, errorCode: string, maxStatements = 0) {
  expect(r.status, r.text.slice(0, 300)).toBe(status);
  expect(code(r), r.text.slice(0, 300)).toBe(errorCode);
  expect(r.statements, 'SQL statements').toBeLessThanOrEqual(maxStatements);
  // A refusal charged to a budget (401, 429) is measured once: a garbage collection of this process
  // that falls in its only measurement counts too, so it gets twice the budget (a real lookup per
  // request, e.g. a slow hash, would still be far over it).
  const budget = REPEATABLE.has(r.status) ? CPU_BUDGET_MS : 2 * CPU_BUDGET_MS;
  expect(r.cpuMs, 'server CPU (ms)').toBeLessThan(budget);
  expect(r.text).not.toMatch(/at .*\.ts:\d+|node_modules|SELECT |Failed query|postgres|Unexpected error/i);
}

export type Closer = () => Promise<void> | void;

/** Things to close after each test of the file (last pushed, first closed). Call it at the top level of a test file. */
export function closedAfterEach(): Closer[] {
  const closers: Closer[] = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });
  return closers;
}

/** Two connections to REDIS_URL, as two server instances would have, disconnected by `closers`. */
export function twoRedis(closers: Closer[]): [Redis, Redis] {
  const pair: [Redis, Redis] = [new Redis(process.env.REDIS_URL!), new Redis(process.env.REDIS_URL!)];
  closers.push(() => {
    for (const redis of pair) redis.disconnect();
  });
  return pair;
}

/**
 * A real server as src/server.ts builds it: the response tier in front of the app, sharing its
 * rate limits; closed by `closers`. `url` is its origin; `served` what the tier answered itself.
 */
export async function serveWithTier(
  db: TestDb['db'],
  closers: Closer[],
  limitsOptions: LimitsOptions,
  cacheOptions: Partial<ResponseCacheOptions> = {},
) {
  const limits = createRateLimits(limitsOptions);
  const cache = createResponseCache({ ttlMs: 60_000, ...cacheOptions });
  const app = createApp({ db, responseCache: cache, limits });
  const served: TierServed[] = [];
  const handler = cache.responses.handler((req: IncomingMessage, res: ServerResponse) => app(req, res), {
    admit: admitNodeRequest(limits),
    onServed: (s) => served.push(s),
  });
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served, limits, cache };
}
