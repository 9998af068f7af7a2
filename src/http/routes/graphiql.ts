import { GRAPHIQL_ASSETS_PATH } from '../paths.js';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import { type Logger, defaultLogger } from '../../observability/logging.js';
import { type RateLimits, clientKey } from '../pipeline/rate-limits.js';

/**
 * GraphiQL served as a small page and static assets, instead of
 * @graphql-yoga/render-graphiql's page with its whole bundle inlined (9 MB of
 * HTML per load, uncompressed, uncacheable).
 *
 * - The assets are that package's own JS, CSS, Monaco workers and favicon
 *   (the strings exported by `@graphql-yoga/render-graphiql/graphiql`),
 *   under `/graphiql/<name>.<hash>.<ext>` with `Cache-Control: public,
 *   max-age=31536000, immutable`. They are prepared once, at the first request
 *   for GraphiQL, in a worker thread (so the 9 MB module never sits in the
 *   server's heap, and the compression never blocks its event loop): gzip and
 *   brotli, kept in memory, chosen by `Accept-Encoding`.
 * - The page (`GET /graphql` with `Accept: text/html`) is about 3 KB; it is
 *   revalidated (`Cache-Control: no-cache`, `ETag` → 304).
 * - Every GraphiQL response (page, asset or 304) costs 1 point of the client's
 *   rate budget (429 `RATE_LIMITED` when it has none left, as for queries).
 */

/** What GraphiQL opens with (passed to YogaGraphiQL.renderYogaGraphiQL as is). */
export interface GraphiQLPageOptions {
  title?: string;
  defaultQuery?: string;
  defaultTabs?: Array<{ query: string; variables?: string }>;
  [option: string]: unknown;
}

export interface GraphiQLRoutesOptions {
  /** The endpoint whose GET with `Accept: text/html` shows GraphiQL (default `/graphql`). */
  endpoint?: string;
  page: GraphiQLPageOptions;
  /** The rate limits GraphiQL's responses are charged to. */
  limits: RateLimits;
  /** Where a failure to prepare the assets is told (warnings and errors only to stdout when absent). */
  logger?: Logger;
}

/** Points charged per GraphiQL response. */
export const GRAPHIQL_COST = 1;

type Encoding = 'br' | 'gzip' | 'identity';

interface Representation {
  body: Buffer;
  etag: string;
}

interface Asset {
  type: string;
  /** By encoding; a compressed one only when it is smaller. */
  bodies: Partial<Record<Encoding, Representation>>;
}

interface Prepared {
  /** Asset file names (`graphiql.<hash>.js`) → asset. */
  assets: Map<string, Asset>;
  /** The asset names the page refers to. */
  names: { js: string; css: string; favicon: string; workers: Record<string, string> };
}

/** One asset as the worker sends it. */
interface WorkerAsset {
  role: string;
  name: string;
  type: string;
  hash: string;
  identity: Uint8Array;
  gzip: Uint8Array;
  br: Uint8Array;
}

/**
 * The worker (plain CommonJS, no TypeScript loader needed): loads the bundle
 * module, cuts it into files, hashes and compresses them, sends them back.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const bundle = require(workerData.modulePath);
const files = [
  ['js', 'graphiql', 'js', 'text/javascript; charset=utf-8', Buffer.from(bundle.js, 'utf8')],
  ['css', 'graphiql', 'css', 'text/css; charset=utf-8', Buffer.from(bundle.css, 'utf8')],
  ['worker:editorWorkerService', 'editor.worker', 'js', 'text/javascript; charset=utf-8', Buffer.from(bundle.editorWorkerService, 'utf8')],
  ['worker:json', 'json.worker', 'js', 'text/javascript; charset=utf-8', Buffer.from(bundle.jsonWorker, 'utf8')],
  ['worker:graphql', 'graphql.worker', 'js', 'text/javascript; charset=utf-8', Buffer.from(bundle.graphqlWorker, 'utf8')],
];
const icon = /^data:([^;,]+);base64,(.*)$/s.exec(bundle.favicon || '');
if (icon) files.push(['favicon', 'favicon', icon[1] === 'image/x-icon' ? 'ico' : (icon[1].split('/')[1] || 'bin').replace(/[^a-z0-9]/g, ''), icon[1], Buffer.from(icon[2], 'base64')]);
const out = files.map(([role, base, ext, type, identity]) => {
  const hash = crypto.createHash('sha256').update(identity).digest('hex').slice(0, 16);
  const text = type.startsWith('text/');
  return {
    role,
    name: base + '.' + hash + '.' + ext,
    type,
    hash,
    identity,
    gzip: zlib.gzipSync(identity, { level: 9 }),
    br: zlib.brotliCompressSync(identity, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
        [zlib.constants.BROTLI_PARAM_MODE]: text ? zlib.constants.BROTLI_MODE_TEXT : zlib.constants.BROTLI_MODE_GENERIC,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
      },
    }),
  };
});
parentPort.postMessage(out);
`;

const IMMUTABLE = 'public, max-age=31536000, immutable';

const toBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function representations(identity: Buffer, gzip: Buffer, br: Buffer, hash: string): Asset['bodies'] {
  const bodies: Asset['bodies'] = { identity: { body: identity, etag: `"${hash}"` } };
  // A compressed representation has an ETag of its own (RFC 9110 §8.8.3: they differ byte for byte).
  if (gzip.length < identity.length) bodies.gzip = { body: gzip, etag: `"${hash}-gzip"` };
  if (br.length < identity.length) bodies.br = { body: br, etag: `"${hash}-br"` };
  return bodies;
}

let prepared: Promise<Prepared> | undefined;

/** Prepares the assets once per process (a failure is retried at the next request). */
function prepare(): Promise<Prepared> {
  prepared ??= new Promise<WorkerAsset[]>((resolve, reject) => {
    const modulePath = createRequire(import.meta.url).resolve('@graphql-yoga/render-graphiql/graphiql');
    // execArgv: []: plain node (no loader of the parent's, e.g. tsx or a test runner's)
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { modulePath }, execArgv: [] });
    worker.once('message', (files: WorkerAsset[]) => resolve(files));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`GraphiQL's asset worker exited with code ${code}`)));
  }).then(
    (files) => {
      const assets = new Map<string, Asset>();
      const names: Prepared['names'] = { js: '', css: '', favicon: '', workers: {} };
      for (const f of files) {
        assets.set(f.name, {
          type: f.type,
          bodies: representations(toBuffer(f.identity), toBuffer(f.gzip), toBuffer(f.br), f.hash),
        });
        if (f.role === 'js') names.js = f.name;
        else if (f.role === 'css') names.css = f.name;
        else if (f.role === 'favicon') names.favicon = f.name;
        else if (f.role.startsWith('worker:')) names.workers[f.role.slice('worker:'.length)] = f.name;
      }
      return { assets, names };
    },
    (err: unknown) => {
      prepared = undefined;
      throw err;
    },
  );
  return prepared;
}

/** JSON that is safe inside an inline <script> (no `</script>`, no HTML comment, no line separators). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function renderPage(p: Prepared, options: GraphiQLPageOptions, base: string): string {
  const asset = (name: string) => escapeHtml(base + name);
  const workers = Object.fromEntries(Object.entries(p.names.workers).map(([label, name]) => [label, base + name]));
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
    ${p.names.favicon ? `<link rel="icon" href="${asset(p.names.favicon)}" />` : ''}
    <link rel="stylesheet" href="${asset(p.names.css)}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script>
      self.MonacoEnvironment = {
        globalAPI: false,
        getWorkerUrl: function (moduleId, label) {
          return ${scriptJson(workers)}[label];
        },
      };
    </script>
    <script src="${asset(p.names.js)}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${scriptJson(options)});
    </script>
  </body>
</html>
`;
}

/** The encoding to send among those `available`: the client's preferred of br and gzip (q > 0), else identity. */
export function negotiateEncoding(
  acceptEncoding: string | null,
  available: readonly Encoding[] = ['br', 'gzip'],
): Encoding {
  if (!acceptEncoding) return 'identity';
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    if (!token) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(token, Number.isFinite(value) ? value : 0);
  }
  const of = (name: string) => q.get(name) ?? q.get('*') ?? 0;
  let best: Encoding = 'identity';
  let bestQ = 0;
  for (const encoding of ['br', 'gzip'] as const) {
    const value = encoding === 'gzip' ? Math.max(of('gzip'), q.get('x-gzip') ?? 0) : of(encoding);
    if (available.includes(encoding) && value > bestQ) {
      best = encoding;
      bestQ = value;
    }
  }
  return best;
}

/** Whether If-None-Match names this representation (or any: `*`). */
function notModified(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

function pick(bodies: Asset['bodies'], acceptEncoding: string | null): [Encoding, Representation] {
  const available = (['br', 'gzip'] as const).filter((e) => bodies[e]);
  const chosen = negotiateEncoding(acceptEncoding, available);
  return [chosen, bodies[chosen]!];
}

/**
 * The Yoga plugin serving GraphiQL (give `graphiql: false` to createYoga):
 * the page on the endpoint, the assets under /graphiql/.
 */
export function graphiqlRoutes(options: GraphiQLRoutesOptions): Plugin {
  const endpoint = options.endpoint ?? '/graphql';
  const pages = new Map<string, Asset>();
  const pageFor = (p: Prepared, base: string): Asset => {
    let page = pages.get(base);
    if (!page) {
      const identity = Buffer.from(renderPage(p, options.page, base), 'utf8');
      const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
      const gzip = gzipSync(identity, { level: 9 });
      const br = brotliCompressSync(identity, {
        params: {
          [zlibConstants.BROTLI_PARAM_QUALITY]: 11,
          [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
        },
      });
      page = { type: 'text/html; charset=utf-8', bodies: representations(identity, gzip, br, hash) };
      pages.set(base, page);
    }
    return page;
  };

  type OnRequest = NonNullable<Plugin['onRequest']>;
  const serve = async (
    { request, url, serverContext, endResponse, fetchAPI }: Parameters<OnRequest>[0],
    isAsset: boolean,
  ) => {
    const method = request.method;
    const path = url.pathname;
    const key = clientKey(request, serverContext, options.limits.options.trustProxy);
    const rateHeaders = await options.limits.admitCached(key, GRAPHIQL_COST);
    if (!rateHeaders) {
      const state = await options.limits.peek(key);
      const exhausted = !!state && state.remainingPoints <= 0;
      const message = exhausted
        ? 'The rate limit is exhausted; see the x-ratelimit-reset header'
        : 'Too many requests in flight';
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code: 'RATE_LIMITED' } }] }), {
          status: 429,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'retry-after': String(exhausted ? Math.max(1, Math.ceil(state.msBeforeNext / 1000)) : 1),
            ...options.limits.headers(state),
          },
        }),
      );
      return;
    }

    let p: Prepared;
    try {
      p = await prepare();
    } catch (err) {
      (options.logger ?? defaultLogger()).warn({ err }, "GraphiQL's assets could not be prepared.");
      endResponse(
        new fetchAPI.Response('GraphiQL is unavailable\n', {
          status: 503,
          headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5', ...rateHeaders },
        }),
      );
      return;
    }
    let asset: Asset | undefined;
    let cacheControl: string;
    if (isAsset) {
      asset = p.assets.get(path.slice(GRAPHIQL_ASSETS_PATH.length));
      cacheControl = IMMUTABLE;
    } else {
      // Relative asset URLs: they work behind a proxy that mounts the API under a prefix.
      asset = pageFor(p, path.endsWith('/') ? '../graphiql/' : 'graphiql/');
      cacheControl = 'no-cache';
    }
    if (!asset) {
      endResponse(
        new fetchAPI.Response('Not found\n', {
          status: 404,
          headers: { 'content-type': 'text/plain; charset=utf-8', ...rateHeaders },
        }),
      );
      return;
    }
    const [encoding, representation] = pick(asset.bodies, request.headers.get('accept-encoding'));
    const headers: Record<string, string> = {
      'cache-control': cacheControl,
      etag: representation.etag,
      vary: 'Accept-Encoding',
      'x-content-type-options': 'nosniff',
      ...rateHeaders,
    };
    if (notModified(request.headers.get('if-none-match'), representation.etag)) {
      endResponse(new fetchAPI.Response(null, { status: 304, headers }));
      return;
    }
    headers['content-type'] = asset.type;
    headers['content-length'] = String(representation.body.length);
    if (encoding !== 'identity') headers['content-encoding'] = encoding;
    const body = method === 'HEAD' ? null : (representation.body as unknown as Uint8Array<ArrayBuffer>);
    endResponse(new fetchAPI.Response(body, { status: 200, headers }));
  };

  return {
    // Synchronous for every other request (no promise on the hot path).
    onRequest(payload) {
      const { request, url } = payload;
      const method = request.method;
      if (method !== 'GET' && method !== 'HEAD') return;
      const path = url.pathname;
      const isAsset = path.startsWith(GRAPHIQL_ASSETS_PATH);
      // The page: where Yoga's own GraphiQL answered (a GET on the endpoint accepting HTML).
      const isPage =
        method === 'GET' &&
        (path === endpoint || path === `${endpoint}/`) &&
        !!request.headers.get('accept')?.includes('text/html');
      if (!isAsset && !isPage) return;
      return serve(payload, isAsset);
    },
  };
}
