import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type Events, createEvents } from '../../src/events.js';
import { limitRequestBodies } from '../../src/http/pipeline/body-limit.js';
import { negotiateEncoding } from '../../src/http/routes/graphiql.js';
import { LIMITS } from '../../src/http/pipeline/limits.js';
import { type Streams, createStreams } from '../../src/http/pipeline/streams.js';
import { metricsPlugins } from '../../src/observability/metrics.js';
import { authHeader } from '../helpers/auth.js';
import type { TestDb } from '../helpers/db.js';
import { repoRoot } from '../helpers/server.js';
import { type AnyDocument, type ResultOfDocument, type VariablesOfDocument, documentText } from '../helpers/http.js';
import { graphql } from '../graphql.js';
import { sseReader, subscriptionRequest } from '../helpers/sse.js';
import { CPU_BUDGET_MS, type ResponseBody, closedAfterEach, cpuOf, seededTestDb } from './helpers.js';

// The server process under hostile use (issue 15, findings 9, 11–14): request bodies over
// the limit, subscription streams without a cap, GraphiQL's page, events while Redis is down.
// Every rejection asserts its status and code, that no SQL ran, and that it cost under 50 ms
// of CPU in this process (process.cpuUsage, never wall time). Draining on SIGTERM under
// keep-alive load is tests/faults/drain.test.ts (a real server process).

let tdb: TestDb;
let editor: Record<string, string>;
const closers = closedAfterEach();

beforeAll(async () => {
  tdb = await seededTestDb();
  editor = await authHeader(tdb.db);
});
afterAll(async () => {
  await tdb?.destroy();
});

/** After a warm-up, five runs: the least CPU time (garbage collections of this process fall on some). */
async function leastCpuOf<T>(fn: () => T | Promise<T>): Promise<{ value: T; cpuMs: number }> {
  await fn();
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await cpuOf(fn));
  return { value: runs.at(-1)!.value, cpuMs: Math.min(...runs.map((r) => r.cpuMs)) };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** The app behind node:http as src/server.ts puts it: the body limit first. */
async function bodyLimitedServer(options: Parameters<typeof limitRequestBodies>[1] = {}) {
  const app = createApp({ db: tdb.db });
  return listen(createServer(limitRequestBodies(app, options)));
}

/** A bare node:http server that reads a request's whole body and answers 413: the floor of receiving it. */
async function bareSink() {
  return listen(
    createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(413, { connection: 'close' }).end());
    }),
  );
}

interface RawAnswer {
  /** Everything read from the socket. */
  text: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  /** A socket error (ECONNRESET, EPIPE…), if any. */
  error?: string;
  /** Bytes of the body the client managed to write. */
  written: number;
}

function parseAnswer(text: string): Pick<RawAnswer, 'status' | 'headers' | 'body'> {
  const head = text.indexOf('\r\n\r\n');
  if (head < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine, ...lines] = text.slice(0, head).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(head + 4) };
}

/**
 * A client that writes its whole request (headers and body, chunked or not) before reading
 * anything — as many do — then reads until the server closes the connection. It runs in a
 * child process, so that this process's CPU time is the server's alone: `start` spawns it,
 * the exchange begins when the returned function is called.
 */
const RAW_CLIENT = `
const net = require('node:net');
const [port, size, chunked, stallAfter, chunkSize] = JSON.parse(process.argv[1]);
process.stdin.once('data', () => go());
function go() {
process.stdin.destroy();
const socket = net.connect(port, '127.0.0.1');
let text = '';
let error;
let written = 0;
socket.pause();
socket.on('data', (d) => (text += d.toString('latin1')));
socket.on('error', (err) => (error ??= err.code || err.message));
socket.on('close', () => process.stdout.write(JSON.stringify({ text, error, written })));
socket.on('connect', async () => {
  socket.write(chunked
    ? 'POST /graphql HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n'
    : 'POST /graphql HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nContent-Length: ' + size + '\\r\\n\\r\\n');
  const piece = Buffer.alloc(chunkSize, 'a');
  const limit = stallAfter ?? size;
  while (written < limit && !socket.destroyed) {
    const n = Math.min(piece.length, limit - written);
    const data = n === piece.length ? piece : piece.subarray(0, n);
    const ok = chunked ? socket.write(n.toString(16) + '\\r\\n') && socket.write(data) && socket.write('\\r\\n') : socket.write(data);
    written += n;
    if (!ok) await new Promise((r) => (socket.once('drain', r), socket.once('close', r)));
  }
  if (socket.destroyed) return;
  if (stallAfter == null && chunked) socket.write('0\\r\\n\\r\\n');
  socket.resume();
  if (stallAfter == null) socket.end();
});
}
`;

async function startRawClient(
  port: number,
  size: number,
  opts: { chunked?: boolean; stallAfter?: number; chunk?: number } = {},
): Promise<() => Promise<RawAnswer>> {
  const args = JSON.stringify([port, size, !!opts.chunked, opts.stallAfter ?? null, opts.chunk ?? 64 * 1024]);
  const child = spawn(process.execPath, ['-e', RAW_CLIENT, args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => {
      try {
        const { text, error, written } = JSON.parse(out) as { text: string; error?: string; written: number };
        resolve({ text, ...parseAnswer(text), error, written });
      } catch (err) {
        reject(new Error(`raw client: ${(err as Error).message}: ${out}`));
      }
    });
  });
  await new Promise((r) => child.once('spawn', r));
  return () => {
    child.stdin!.end('go\n');
    return answer;
  };
}

const writeThenRead = async (port: number, size: number, opts: Parameters<typeof startRawClient>[2] = {}) =>
  (await startRawClient(port, size, opts))();

const codeOf = (body: string) => {
  try {
    return JSON.parse(body).errors?.[0]?.extensions?.code;
  } catch {
    return undefined;
  }
};

describe('request bodies over the limit (node:http, a raw socket client)', () => {
  for (const [name, size, chunked] of [
    ['2 MB with Content-Length', 2_000_000, false],
    ['8 MB with Content-Length', 8_000_000, false],
    ['2 MB chunked', 2_000_000, true],
    ['just over the limit, chunked', LIMITS.maxBodyBytes + 1, true],
  ] as const) {
    it(`${name}, written whole before reading: the client reads 413 PAYLOAD_TOO_LARGE, not a reset`, async () => {
      const port = await bodyLimitedServer();
      const sink = await bareSink();
      tdb.resetStatements();
      // Once to warm up, then five times: the least CPU time of this process (the client is a child
      // process), beside the same bytes sent to a bare node:http server that only reads them: receiving
      // megabytes costs the kernel and Node's parser CPU that grows with the size and with the load on
      // the machine, so the budget is for what our server does beyond that. (A garbage collection of a
      // process holding the test database falls on some runs: the least run of each counts.)
      type Answer = Awaited<ReturnType<Awaited<ReturnType<typeof startRawClient>>>>;
      const runs: { value: Answer; cpuMs: number }[] = [];
      const bare: number[] = [];
      await (await startRawClient(port, size, { chunked }))();
      await (await startRawClient(sink, size, { chunked }))();
      const least = () => Math.min(...runs.map((r) => r.cpuMs)) - Math.min(...bare);
      // Five pairs, and up to ten more while over budget: on a loaded VM a whole round can be slow
      // (seen once on CI: 86 ms), and the least of more runs is still what the server itself costs.
      for (let i = 0; i < 15 && (i < 5 || least() >= CPU_BUDGET_MS); i++) {
        runs.push(await cpuOf(await startRawClient(port, size, { chunked })));
        bare.push((await cpuOf(await startRawClient(sink, size, { chunked }))).cpuMs);
      }
      const cpuMs = least();
      for (const { value: answer } of runs) {
        expect(answer.error, answer.text.slice(0, 200)).toBeUndefined();
        expect(answer.written).toBe(size);
        expect(answer.status).toBe(413);
        expect(answer.headers.connection).toBe('close');
        expect(codeOf(answer.body)).toBe('PAYLOAD_TOO_LARGE');
      }
      expect(tdb.statements).toEqual([]);
      expect(cpuMs).toBeLessThan(CPU_BUDGET_MS);
    });
  }

  it('a body beyond the discard bound (24 MB): refused at once, the connection closed after 8 MiB were thrown away', async () => {
    const port = await bodyLimitedServer();
    const answer = await writeThenRead(port, 24_000_000);
    // The server stops reading after the bound: the client cannot finish writing.
    expect(answer.written).toBeLessThan(24_000_000);
    expect(answer.written).toBeGreaterThan(8 * 1024 * 1024 - 1);
  });

  it('a client that stalls mid-body: 413 already sent, the connection closed after the time bound', async () => {
    const port = await bodyLimitedServer({ discardMs: 300 });
    tdb.resetStatements();
    const answer = await writeThenRead(port, 2_000_000, { stallAfter: 100_000 });
    expect(answer.status).toBe(413);
    expect(codeOf(answer.body)).toBe('PAYLOAD_TOO_LARGE');
    expect(answer.error).toBeUndefined();
    expect(tdb.statements).toEqual([]);
  });

  it('bodies within the limit: served (chunked too), and the connection stays usable', async () => {
    const port = await bodyLimitedServer();
    const body = JSON.stringify({ query: '{ latestIssue { title } }' });
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    closers.push(() => void socket.destroy());
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const until = async (n: number) => {
      for (let i = 0; i < 200 && (text.match(/HTTP\/1\.1 /g) ?? []).length < n; i++)
        await new Promise((r) => setTimeout(r, 20));
    };
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    await until(1);
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${(10).toString(16)}\r\n${body.slice(0, 10)}\r\n${(body.length - 10).toString(16)}\r\n${body.slice(10)}\r\n0\r\n\r\n`,
    );
    await until(2);
    const answers = text.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    for (const a of answers) {
      expect(a).toMatch(/^HTTP\/1\.1 200/);
      expect(a).toContain('Important LLM Papers for the Week');
      expect(a.toLowerCase()).not.toContain('connection: close');
    }
  });

  it('a body framed by Content-Length is read whole at the limit, and refused when it is not JSON', async () => {
    const port = await bodyLimitedServer();
    const exchange = async (request: string) => {
      const socket = net.connect(port, '127.0.0.1');
      closers.push(() => void socket.destroy());
      await new Promise((r) => socket.once('connect', r));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.write(request);
      for (let i = 0; i < 250 && !/\r\n\r\n[\s\S]*\}/.test(text); i++) await new Promise((r) => setTimeout(r, 20));
      return text;
    };
    const head = (length: number) =>
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    const atLimit = ' '.repeat(LIMITS.maxBodyBytes - 26) + '{"query":"{ __typename }"}';
    const whole = await exchange(head(atLimit.length) + atLimit);
    expect(whole).toMatch(/^HTTP\/1\.1 200/);
    expect(whole).toContain('"__typename":"Query"');

    tdb.resetStatements();
    const body = JSON.stringify({ query: '{ latestIssue { title } }' }).slice(0, -1);
    const cut = await exchange(head(body.length) + body);
    expect(cut).toMatch(/^HTTP\/1\.1 400/);
    expect(codeOf(cut.slice(cut.indexOf('\r\n\r\n') + 4))).toBe('BAD_REQUEST');
    expect(tdb.statements).toEqual([]);
  });

  it('the same limit in the app: a body exactly at the limit is read, one byte over is refused', async () => {
    const app = createApp({ db: tdb.db });
    const at = await app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: ' '.repeat(LIMITS.maxBodyBytes - 26) + '{"query":"{ __typename }"}',
    });
    expect(at.status).toBe(200);
    tdb.resetStatements();
    const over = await app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: ' '.repeat(LIMITS.maxBodyBytes - 25) + '{"query":"{ __typename }"}',
    });
    expect(over.status).toBe(413);
    expect(codeOf(await over.text())).toBe('PAYLOAD_TOO_LARGE');
    expect(tdb.statements).toEqual([]);
  });
});

describe('subscription streams: capped per client address and per process', () => {
  const SUB = 'subscription { issuePublished { slug } }';
  let streams: Streams;
  let app: App;
  let registry: Registry;
  /** Open streams, closed by their client (app.fetch: aborting the request is what closes a stream). */
  const open: Array<{ close(): Promise<void> }> = [];

  beforeAll(() => {
    streams = createStreams({ perClient: 2, perProcess: 3, trustProxy: true });
    registry = new Registry();
    app = createApp({
      db: tdb.db,
      streams,
      limits: { rateLimit: { points: 1_000_000, durationSec: 3600, maxInFlight: 1000 }, trustProxy: true },
      observability: metricsPlugins({ registry, processMetrics: false, openStreams: () => streams.open }),
    });
  });
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
    for (let i = 0; i < 50 && streams.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
  });

  const subscribe = (address: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    app.fetch('http://localhost/graphql', {
      ...subscriptionRequest(SUB, {}, { 'x-forwarded-for': address, ...headers }),
      signal,
    });
  /** Opens a stream (the subscription is then running). */
  const openStream = async (address: string, headers: Record<string, string> = {}) => {
    const controller = new AbortController();
    const res = await subscribe(address, headers, controller.signal);
    expect(res.status).toBe(200);
    const reader = sseReader(res);
    const stream = {
      next: reader.next,
      close: async () => {
        controller.abort();
        await reader.close();
      },
    };
    open.push(stream);
    return stream;
  };
  const gauge = async () => {
    const text = await (await app.fetch('http://localhost/metrics')).text();
    return Number(/^graphql_streams_open (\d+)$/m.exec(text)?.[1]);
  };

  it('per client: the third stream of an address is refused (429 TOO_MANY_STREAMS, Retry-After), another address is not', async () => {
    await openStream('10.1.0.1');
    await openStream('10.1.0.1');
    expect(streams.openBy('ip:10.1.0.1')).toBe(2);
    tdb.resetStatements();
    const { value: refused, cpuMs } = await leastCpuOf(() => subscribe('10.1.0.1'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    const event = await sseReader(refused).next();
    expect(event.errors[0].extensions.code).toBe('TOO_MANY_STREAMS');
    expect(event.errors[0].message).toMatch(/at most 2/);
    expect(tdb.statements).toEqual([]);
    expect(cpuMs).toBeLessThan(CPU_BUDGET_MS);
    // JSON clients get the same refusal
    const json = await app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': '10.1.0.1' },
      body: JSON.stringify({ query: SUB }),
    });
    expect(json.status).toBe(429);
    expect(((await json.json()) as ResponseBody).errors![0]!.extensions!.code).toBe('TOO_MANY_STREAMS');
    await openStream('10.1.0.2');
  });

  it('a token does not lift the cap of its address', async () => {
    await openStream('10.2.0.1', editor);
    await openStream('10.2.0.1');
    const refused = await subscribe('10.2.0.1', editor);
    expect(refused.status).toBe(429);
    await sseReader(refused).close();
  });

  it('subscriptions that are not streamed (Accept: application/json → 406) hold no slot', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': '10.8.0.1' },
        body: JSON.stringify({ query: SUB }),
      });
      expect(res.status).toBe(406);
      await res.arrayBuffer();
    }
    expect(streams.openBy('ip:10.8.0.1')).toBe(0);
    expect(streams.open).toBe(0);
    await openStream('10.8.0.1');
  });

  it('closing a stream gives its slot back', async () => {
    await openStream('10.3.0.1');
    const second = await openStream('10.3.0.1');
    expect((await subscribe('10.3.0.1')).status).toBe(429);
    await second.close();
    for (let i = 0; i < 50 && streams.openBy('ip:10.3.0.1') > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(streams.openBy('ip:10.3.0.1')).toBe(1);
    await openStream('10.3.0.1');
  });

  it('per process: beyond 3 open streams any address is refused; /metrics counts open streams', async () => {
    expect(await gauge()).toBe(0);
    await openStream('10.4.0.1');
    await openStream('10.4.0.2');
    await openStream('10.4.0.3');
    expect(await gauge()).toBe(3);
    tdb.resetStatements();
    const refused = await subscribe('10.4.0.4');
    expect(refused.status).toBe(429);
    const event = await sseReader(refused).next();
    expect(event.errors[0]).toMatchObject({ extensions: { code: 'TOO_MANY_STREAMS' } });
    expect(event.errors[0].message).toMatch(/on this server \(at most 3\)/);
    expect(tdb.statements).toEqual([]);
    const metrics = await (await app.fetch('http://localhost/metrics')).text();
    expect(metrics).toMatch(/graphql_errors_total\{code="TOO_MANY_STREAMS",operationName="Anonymous"\} [1-9]/);
    while (open.length) await open.pop()!.close();
    for (let i = 0; i < 50 && streams.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await gauge()).toBe(0);
  });

  it('endAll (shutdown): every stream gets a last SERVICE_UNAVAILABLE event, then ends; slots are given back', async () => {
    const a = await openStream('10.5.0.1');
    const b = await openStream('10.5.0.2');
    const pendingA = a.next();
    const pendingB = b.next();
    await new Promise((r) => setTimeout(r, 50));
    streams.endAll();
    for (const event of [await pendingA, await pendingB])
      expect(event.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
    await expect(a.next()).rejects.toThrow(/stream ended/);
    expect(streams.open).toBe(0);
  });

  it('a client that drops its connection gives its slot back at once (a real socket, no event needed)', async () => {
    const server = createServer(app);
    const port = await listen(server);
    const body = JSON.stringify({ query: SUB });
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nContent-Type: application/json\r\nX-Forwarded-For: 10.6.0.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    for (let i = 0; i < 200 && !text.includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(streams.openBy('ip:10.6.0.1')).toBe(1);
    socket.destroy();
    for (let i = 0; i < 100 && streams.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(streams.open).toBe(0);
  });

  it('STREAMS_PER_CLIENT and STREAMS_PER_PROCESS: defaults in src/config.ts and .env.example agree', () => {
    const config = loadConfig({});
    expect(config.STREAMS_PER_CLIENT).toBe(20);
    expect(config.STREAMS_PER_PROCESS).toBe(1000);
    const env = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
    expect(Number(/^STREAMS_PER_CLIENT=(\d+)$/m.exec(env)?.[1])).toBe(config.STREAMS_PER_CLIENT);
    expect(Number(/^STREAMS_PER_PROCESS=(\d+)$/m.exec(env)?.[1])).toBe(config.STREAMS_PER_PROCESS);
    expect(() => loadConfig({ STREAMS_PER_CLIENT: '0' })).toThrow(/STREAMS_PER_CLIENT/);
  });
});

describe('GraphiQL: a small page, hashed immutable assets, compressed, charged', () => {
  const html = { accept: 'text/html,application/xhtml+xml' };
  let app: App;
  let page: string;
  let assetPaths: string[];

  beforeAll(async () => {
    app = createApp({
      db: tdb.db,
      limits: { rateLimit: { points: 1_000_000, durationSec: 3600, maxInFlight: 1000 }, trustProxy: true },
    });
    page = await (await app.fetch('http://localhost/graphql', { headers: html })).text();
    assetPaths = [...page.matchAll(/"(graphiql\/[a-z.]+\.[0-9a-f]{16}\.[a-z]+)"/g)].map((m) => `/${m[1]}`);
  }, 60_000);

  it('the page is small, refers to hashed assets only, and loads nothing from elsewhere', async () => {
    const res = await app.fetch('http://localhost/graphql', { headers: html });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(bytes.length).toBeLessThan(50_000);
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).toContain('GraphiQL');
    // script, style, favicon and Monaco's three workers
    expect(new Set(assetPaths).size).toBe(6);
    expect(assetPaths.filter((p) => p.endsWith('.js'))).toHaveLength(4);
  });

  it('each asset: named by the hash of its content, immutable, br and gzip by Accept-Encoding', async () => {
    for (const asset of new Set(assetPaths)) {
      const identity = await app.fetch(`http://localhost${asset}`);
      const plain = Buffer.from(await identity.arrayBuffer());
      expect(identity.status, asset).toBe(200);
      expect(identity.headers.get('content-encoding')).toBeNull();
      expect(identity.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(identity.headers.get('vary')).toBe('Accept-Encoding');
      expect(asset).toContain(createHash('sha256').update(plain).digest('hex').slice(0, 16));
      expect(identity.headers.get('content-type')).toMatch(
        asset.endsWith('.js') ? /^text\/javascript/ : asset.endsWith('.css') ? /^text\/css/ : /^image\//,
      );
      const br = await app.fetch(`http://localhost${asset}`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(br.headers.get('content-encoding')).toBe('br');
      const brBytes = Buffer.from(await br.arrayBuffer());
      expect(brotliDecompressSync(brBytes).equals(plain)).toBe(true);
      const gzip = await app.fetch(`http://localhost${asset}`, { headers: { 'accept-encoding': 'gzip;q=1, br;q=0' } });
      expect(gzip.headers.get('content-encoding')).toBe('gzip');
      expect(gunzipSync(Buffer.from(await gzip.arrayBuffer())).equals(plain)).toBe(true);
      if (asset.endsWith('.js') || asset.endsWith('.css')) expect(brBytes.length).toBeLessThan(plain.length / 2);
      expect(new Set([identity.headers.get('etag'), br.headers.get('etag'), gzip.headers.get('etag')]).size).toBe(3);
    }
    expect(negotiateEncoding('*')).toBe('br');
    expect(negotiateEncoding('identity')).toBe('identity');
    expect(negotiateEncoding('br;q=0.5, gzip;q=0.8')).toBe('gzip');
    expect(negotiateEncoding(null)).toBe('identity');
  });

  it('a repeat load is a 304 (page and asset, by ETag); an unknown asset is a 404', async () => {
    for (const url of ['http://localhost/graphql', `http://localhost${assetPaths[0]}`]) {
      const first = await app.fetch(url, { headers: { ...html, 'accept-encoding': 'br' } });
      await first.arrayBuffer();
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"[0-9a-f]{16}-br"$/);
      const again = await app.fetch(url, { headers: { ...html, 'accept-encoding': 'br', 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(etag);
      expect((await again.arrayBuffer()).byteLength).toBe(0);
      // another encoding is another representation
      expect(
        (await app.fetch(url, { headers: { ...html, 'accept-encoding': 'gzip', 'if-none-match': etag } })).status,
      ).toBe(200);
    }
    expect((await app.fetch('http://localhost/graphiql/graphiql.0000000000000000.js')).status).toBe(404);
    expect((await app.fetch('http://localhost/graphiql/../src/server.ts')).status).toBe(404);
  });

  it('every load is charged 1 point to the client; with no points left it is a 429, without SQL and cheaply', async () => {
    const headers = { ...html, 'x-forwarded-for': '10.7.0.1' };
    const a = await app.fetch('http://localhost/graphql', { headers });
    const b = await app.fetch('http://localhost/graphql', { headers });
    expect(Number(a.headers.get('x-ratelimit-used'))).toBe(1);
    expect(Number(b.headers.get('x-ratelimit-used'))).toBe(2);
    const asset = await app.fetch(`http://localhost${assetPaths[0]}`, { headers });
    expect(Number(asset.headers.get('x-ratelimit-used'))).toBe(3);
    // a client with a budget of 2 points
    const small = createApp({
      db: tdb.db,
      limits: { rateLimit: { points: 2, durationSec: 3600, maxInFlight: 10 }, trustProxy: false },
    });
    await small.fetch('http://localhost/graphql', { headers: html });
    await small.fetch('http://localhost/graphql', { headers: html });
    tdb.resetStatements();
    const { value: refused, cpuMs } = await leastCpuOf(() =>
      small.fetch('http://localhost/graphql', { headers: html }),
    );
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as ResponseBody).errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(tdb.statements).toEqual([]);
    expect(cpuMs).toBeLessThan(CPU_BUDGET_MS);
  });

  it('a page load costs little CPU and no SQL; six parallel downloads of everything too', async () => {
    tdb.resetStatements();
    const { cpuMs: pageCpu } = await leastCpuOf(async () =>
      (await app.fetch('http://localhost/graphql', { headers: { ...html, 'accept-encoding': 'br' } })).arrayBuffer(),
    );
    expect(pageCpu).toBeLessThan(CPU_BUDGET_MS);
    const { cpuMs } = await cpuOf(() =>
      Promise.all(
        Array.from({ length: 6 }, () =>
          Promise.all(
            assetPaths.map(async (p) =>
              (await app.fetch(`http://localhost${p}`, { headers: { 'accept-encoding': 'br' } })).arrayBuffer(),
            ),
          ),
        ),
      ),
    );
    expect(cpuMs).toBeLessThan(4 * CPU_BUDGET_MS);
    expect(tdb.statements).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Redis going away: a Redis of our own (never the machine's shared one), stopped and restarted.

const REDIS_SERVER = '/usr/bin/redis-server';

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

interface OwnRedis {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start');
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise((r) => (c.once('exit', r), c.kill('SIGKILL')));
  };
  await start();
  closers.push(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `redis://127.0.0.1:${port}`, stop, start };
}

const waitFor = async (what: string, check: () => boolean, ms = 10_000) => {
  for (let waited = 0; !check(); waited += 50) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.skipIf(
  !(() => {
    try {
      return readFileSync(REDIS_SERVER).length > 0;
    } catch {
      return false;
    }
  })(),
)('subscription events while Redis is down: delivered in-process, reported, never lost silently', () => {
  const CREATE = graphql(
    `mutation($slug: String!) { createIssue(input: { slug: $slug, title: "Week", weekStart: "2025-06-02" }) { ... on CreateIssuePayload { issue { id } } } }`,
  );
  const PUBLISH = graphql(`mutation($id: ID!) { publishIssue(input: { id: $id }) { __typename } }`);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  const withEvents = (events: Events) => {
    closers.push(() => events.close());
    return createApp({ db: tdb.db, events });
  };
  const gqlOn = async <D extends AnyDocument>(app: App, document: D, variables: VariablesOfDocument<D>) =>
    (await (
      await app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...editor },
        body: JSON.stringify({ query: documentText(document), variables }),
      })
    ).json()) as ResponseBody<ResultOfDocument<D>>;
  const publishNew = async (app: App, slug: string) => {
    const created = (await gqlOn(app, CREATE, { slug })).data!.createIssue;
    if (!('issue' in created)) throw new Error(`createIssue refused: ${JSON.stringify(created)}`);
    const id = created.issue.id;
    await gqlOn(app, PUBLISH, { id });
  };

  it('a subscriber hears a publish made while Redis is down (fallback reported once), and through Redis again once it is back', async () => {
    const redis = await ownRedis();
    const statuses: string[] = [];
    const events = createEvents(redis.url, { onStatus: (s) => statuses.push(s.event) });
    const app = withEvents(events);
    await waitFor('Redis', () => events.delivery() === 'redis');
    const stream = sseReader(
      await app.fetch('http://localhost/graphql', subscriptionRequest('subscription { issuePublished { slug } }')),
    );
    closers.push(() => stream.close());
    const first = stream.next();
    await new Promise((r) => setTimeout(r, 200)); // the SUBSCRIBE reaches Redis
    await publishNew(app, 'redis-up-1');
    expect(await first).toEqual({ data: { issuePublished: { slug: 'redis-up-1' } } });

    await redis.stop();
    await waitFor('the outage to be noticed', () => events.delivery() === 'fallback');
    const during = stream.next();
    await publishNew(app, 'redis-down-1');
    expect(await during).toEqual({ data: { issuePublished: { slug: 'redis-down-1' } } });
    const during2 = stream.next();
    await publishNew(app, 'redis-down-2');
    expect(await during2).toEqual({ data: { issuePublished: { slug: 'redis-down-2' } } });
    expect(statuses).toEqual(['fallback']);

    await redis.start();
    await waitFor('Redis to be back', () => events.delivery() === 'redis', 15_000);
    await new Promise((r) => setTimeout(r, 300)); // the subscription renewed
    const after = stream.next();
    await publishNew(app, 'redis-back-1');
    expect(await after).toEqual({ data: { issuePublished: { slug: 'redis-back-1' } } });
    // exactly once: nothing else arrives
    await expect(stream.next(500)).rejects.toThrow(/no event in time/);
    expect(statuses).toEqual(['fallback', 'recovered']);
    expect(unhandled).toEqual([]);
  }, 60_000);

  it('two processes on one Redis: a publish crosses over while Redis is up; while it is down each process hears only its own', async () => {
    const redis = await ownRedis();
    const a = createEvents(redis.url, { onStatus: () => {} });
    const b = createEvents(redis.url, { onStatus: () => {} });
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    await waitFor('Redis', () => a.delivery() === 'redis' && b.delivery() === 'redis');
    const heardByB: number[] = [];
    const heardByA: number[] = [];
    const subB = b.subscribe('issuePublished');
    const subA = a.subscribe('issuePublished');
    void (async () => {
      for await (const e of subB) heardByB.push(e.issueId);
    })();
    void (async () => {
      for await (const e of subA) heardByA.push(e.issueId);
    })();
    await new Promise((r) => setTimeout(r, 300));
    a.publish('issuePublished', { issueId: 1 });
    await waitFor('the event through Redis', () => heardByB.includes(1) && heardByA.includes(1));
    await redis.stop();
    await waitFor('the outage', () => a.delivery() === 'fallback');
    a.publish('issuePublished', { issueId: 2 });
    await waitFor('the in-process event', () => heardByA.includes(2));
    await new Promise((r) => setTimeout(r, 200));
    expect(heardByB).toEqual([1]);
    expect(heardByA).toEqual([1, 2]);
    await subA.return?.();
    await subB.return?.();
    expect(unhandled).toEqual([]);
  }, 60_000);
});
