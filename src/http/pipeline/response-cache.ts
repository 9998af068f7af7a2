import { createHash, randomBytes } from 'node:crypto';
import { type Cache, createInMemoryCache, useResponseCache } from '@graphql-yoga/plugin-response-cache';
import type { Plugin } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { type ResponseTier, createResponseTier } from './response-tier.js';

export interface ResponseCacheOptions {
  /** How long a result may be served from the cache (ms). */
  ttlMs: number;
  /** Shared cache (and invalidation) for all server processes; per-process memory when absent. */
  redis?: Redis | null;
  /** Separates the cached results of different archives sharing one Redis. */
  namespace?: string;
  /** Memory for the response tier's recorded responses (bytes; default 32 MiB). */
  responseTierBytes?: number;
  /**
   * Whether every change to the database is seen (the change signal,
   * src/db/change-signal.ts, is connected). While it returns false the cache
   * serves and stores nothing: a write made outside the API could go unseen.
   */
  healthy?: () => boolean;
}

/**
 * The cache generation: every write bumps it, and only results cached in
 * the current generation are ever served (also for If-None-Match → 304).
 * So a cached result can never be older than the last write — whatever it
 * contains, even an empty list — and with Redis this holds across processes.
 */
interface Generation {
  current(): Promise<string>;
  bump(): Promise<void>;
}

function memoryGeneration(): Generation {
  let n = 0;
  return { current: async () => String(n), bump: async () => void n++ };
}

/**
 * The generation in Redis. While Redis fails, this process serves nothing
 * from the cache, and after a write it could not record it stays uncached
 * until a later write reaches Redis (so it never serves what it made stale).
 *
 * Generations never repeat: when the key is missing (a Redis restarted
 * without persistence, or the key evicted) it starts again from the current
 * time in ms, not from 0 — each process's response tier keeps responses of
 * earlier generations in memory, and a counter that went back would make
 * them current again.
 */
function redisGeneration(redis: Redis, key: string): Generation {
  let pendingBump = false;
  const start = () => redis.set(key, String(Date.now()), 'NX');
  const incr = async () => {
    await start();
    await redis.incr(key);
  };
  return {
    current: async () => {
      if (pendingBump) {
        await incr().then(
          () => (pendingBump = false),
          () => {},
        );
        if (pendingBump) return 'unavailable';
      }
      try {
        const value = await redis.get(key);
        if (value !== null) return value;
        await start();
        return (await redis.get(key)) ?? 'unavailable';
      } catch {
        return 'unavailable';
      }
    },
    bump: async () => {
      await incr().then(
        () => (pendingBump = false),
        () => (pendingBump = true),
      );
    },
  };
}

/**
 * A cached result that serializes itself once: Yoga uses a result's
 * `stringify` when it has one (graphql-jit's results do), so each hit no
 * longer runs JSON.stringify over the whole result. The in-memory cache hands
 * back the same object for every hit; the text is kept beside it. (Results
 * read from Redis are new objects: they are serialized once per hit, as before.)
 */
const serialized = new WeakMap<object, string>();
function withSerialized(entry: object): object {
  return {
    ...entry,
    stringify: (sanitized: unknown) => {
      let text = serialized.get(entry);
      if (text === undefined) {
        text = JSON.stringify(sanitized);
        serialized.set(entry, text);
      }
      return text;
    },
  };
}

export interface ResponseCache {
  /** The Yoga plugin: results cached by operation and variables, and the recorder of the response tier. */
  plugin: Plugin;
  /**
   * The response tier: the same cached results as HTTP responses, answered
   * before Yoga (`responses.handler(app, hooks)` as the node:http listener).
   * Without it the cache still works, inside Yoga.
   */
  responses: ResponseTier;
  /** Call after every committed write (and on every change the database announces: src/db/change-signal.ts). */
  invalidate(): Promise<void>;
}

/**
 * The secret mixed into every ETag, so that an ETag says nothing about the
 * cache (its key layout, namespace or generation) and cannot be recomputed
 * from a guess. With Redis it is shared (the processes share cached results,
 * whose ids are the ETags); until Redis answers, a process uses its own.
 */
function etagSecret(redis: Redis | null | undefined, key: string): () => Promise<string> {
  const local = randomBytes(18).toString('base64url');
  if (!redis) return async () => local;
  let shared: string | undefined;
  return async () => {
    if (shared !== undefined) return shared;
    try {
      await redis.set(key, local, 'NX');
      shared = (await redis.get(key)) ?? undefined;
    } catch {
      // Redis down: this process's own secret (its results are then its own; never stale: the generation is checked)
    }
    return shared ?? local;
  };
}

/** What the cache stores: a result with the generation it was computed in. */
interface Stored {
  g: string;
  r: Record<string, unknown>;
}

/** An ETag of ours: a quoted base64url SHA-256 (a weak form, W/"…", names the same one). */
const ETAG = /^(?:W\/)?"([A-Za-z0-9_-]{43})"$/;

/**
 * Results in Redis: one key each, expiring with its TTL. Written here rather than with
 * @envelop/response-cache-redis, whose store also adds every result's id to sets keyed by bare
 * type name ("Issue", "Paper"), unprefixed and never expiring: they grow without bound, and an
 * invalidation by any process on the same Redis (another namespace, another deployment) deletes
 * everyone's results. Staleness is the generation's job here, so no such index is needed.
 */
function redisStore(redis: Redis): Cache {
  return {
    set: async (key, result, _entities, ttl) => {
      const text = JSON.stringify(result);
      await (Number.isFinite(ttl) ? redis.set(key, text, 'PX', Math.max(1, Math.round(ttl))) : redis.set(key, text));
    },
    get: async (key) => {
      const text = await redis.get(key);
      return text === null ? undefined : JSON.parse(text);
    },
    // a write bumps the generation; what was stored before expires with its TTL
    invalidate: () => {},
  };
}

/** A generation that is 'unavailable' while changes may go unseen. */
function whileHealthy(generation: Generation, healthy: (() => boolean) | undefined): Generation {
  if (!healthy) return generation;
  return { current: async () => (healthy() ? generation.current() : 'unavailable'), bump: () => generation.bump() };
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const namespace = options.namespace ?? randomBytes(6).toString('hex');
  const generation = whileHealthy(
    options.redis ? redisGeneration(options.redis, `llmp:cache:${namespace}:generation`) : memoryGeneration(),
    options.healthy,
  );
  const inner: Cache = options.redis ? redisStore(options.redis) : createInMemoryCache();
  // A cached result's id is its ETag, which clients see: opaque, a keyed hash of the generation
  // and the operation (its text, variables and name). Stored under a key of this namespace, with
  // the generation it was computed in beside it; the generation of each ETag this process made
  // or served is remembered (bounded) for the response tier.
  const secret = etagSecret(options.redis, `llmp:cache:${namespace}:etag-secret`);
  const generations = new LRUCache<string, string>({ max: 20_000 });
  const storageKey = (etag: string) => `llmp:cache:${namespace}:r:${etag}`;
  // The plugin does not wait for a store (the response goes out first): a store to Redis still
  // in flight is waited for by this process's reads of the same key, so the same request sent
  // again at once is a hit, not a second computation.
  const storing = new Map<string, Promise<void>>();
  // Only entries of the current generation exist for readers (also for If-None-Match → 304).
  // A cache failure (Redis down) is a miss, never a failed request.
  const cache: Cache = {
    set: async (id, data, entities, ttl) => {
      const hash = ETAG.exec(id)?.[1];
      const gen = generations.get(id);
      // ('unavailable', Redis down, is never recorded: nothing computed then is stored)
      if (hash === undefined || gen === undefined) return;
      const stored: Stored = { g: gen, r: data as Record<string, unknown> };
      const key = storageKey(hash);
      const done = Promise.resolve(inner.set(key, stored as never, entities, ttl)).then(
        () => {},
        () => {},
      );
      storing.set(key, done);
      await done;
      if (storing.get(key) === done) storing.delete(key);
    },
    get: async (id) => {
      const hash = ETAG.exec(id)?.[1];
      if (hash === undefined) return null;
      const key = storageKey(hash);
      const pending = storing.get(key);
      if (pending) await pending;
      const gen = await generation.current();
      if (gen === 'unavailable') return null;
      const entry = (await Promise.resolve(inner.get(key)).catch(() => null)) as Stored | null | undefined;
      if (!entry || entry.g !== gen || !entry.r) return null;
      generations.set(`"${hash}"`, gen);
      return withSerialized(entry.r) as never;
    },
    invalidate: async (entities) => {
      await Promise.resolve(inner.invalidate(entities)).catch(() => {});
    },
  };
  const responses = createResponseTier({
    generation: () => generation.current(),
    generationOfETag: (etag) => generations.get(etag) ?? null,
    ttlMs: options.ttlMs,
    maxBytes: options.responseTierBytes,
  });
  const resultCache = useResponseCache({
    cache,
    ttl: options.ttlMs,
    // Only anonymous readers share cached results. Requests with a token are
    // never served from the cache: a draft cannot leak to a reader, and a
    // revoked token cannot read a cached editor response.
    session: () => null,
    // Any Authorization header, even an empty one: such a request is answered (or refused, 401) by the server.
    enabled: (request) => !request.headers.has('authorization'),
    // results with errors (and rejected operations) are never cached
    shouldCacheResult: ({ result }) => !result.errors?.length,
    invalidateViaMutation: false,
    // node:crypto hashes synchronously; WebCrypto's digest (the library's hashSHA256) is a
    // thread-pool job per request, a large share of a cache hit's CPU.
    buildResponseCacheKey: async ({ documentString, variableValues, operationName }) => {
      const [gen, key] = await Promise.all([generation.current(), secret()]);
      const etag = `"${createHash('sha256')
        .update(`${key}\0${gen}\0`)
        .update(JSON.stringify([documentString, variableValues ?? {}, operationName ?? null]))
        .digest('base64url')}"`;
      if (gen !== 'unavailable') generations.set(etag, gen);
      return etag;
    },
  }) as Plugin;
  const plugin: Plugin = {
    onPluginInit({ addPlugin }) {
      addPlugin(resultCache);
      addPlugin(responses.plugin);
    },
  };
  const invalidateNow = async () => {
    await generation.bump();
    responses.clear();
    // drop what was cached, too (memory), beyond just making it unreachable
    await cache.invalidate([{ typename: 'Issue' }, { typename: 'Paper' }, { typename: 'Category' }]);
  };
  // A write announces itself once per table it touched, and API writes are
  // announced by the database too: invalidations asked for while one runs are
  // folded into a single one after it. Not into the running one — a reader may
  // already have seen its new generation before the later change committed.
  let running: Promise<void> = Promise.resolve();
  let queued: Promise<void> | null = null;
  const invalidate = (): Promise<void> => {
    if (queued) return queued;
    const next = running.then(() => {
      queued = null;
      return invalidateNow();
    });
    queued = next;
    running = next.catch(() => {});
    return next;
  };
  return { plugin, responses, invalidate };
}
