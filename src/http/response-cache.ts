import { createHash, randomBytes } from 'node:crypto';
import { createRedisCache } from '@envelop/response-cache-redis';
import { type Cache, createInMemoryCache, useResponseCache } from '@graphql-yoga/plugin-response-cache';
import type { Plugin } from 'graphql-yoga';
import type { Redis } from 'ioredis';
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

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
  const inner: Cache = options.redis
    ? createRedisCache({ redis: options.redis, buildRedisEntityId: (t, id) => `llmp:cache:${namespace}:${t}:${id}`, buildRedisOperationResultCacheKey: (r) => `llmp:cache:${namespace}:ops:${r}` })
    : createInMemoryCache();
  const keyPrefix = (gen: string) => `llmp:cache:${namespace}:g${gen}:`;
  // A cached result's ETag is its key: the generation it was computed in is part of it.
  // ('unavailable', Redis down, is not a number: nothing computed then is recorded.)
  const etagPattern = new RegExp(`^${escapeRegExp(`llmp:cache:${namespace}:g`)}([0-9]+):[0-9a-f]{64}$`);
  // Only entries of the current generation exist for readers.
  // A cache failure (Redis down) is a miss, never a failed request.
  const cache: Cache = {
    set: async (id, data, entities, ttl) => {
      if (id.includes(':gunavailable:')) return;
      await Promise.resolve(inner.set(id, data, entities, ttl)).catch(() => {});
    },
    get: async (id) => {
      const gen = await generation.current();
      if (gen === 'unavailable' || !id.startsWith(keyPrefix(gen))) return null;
      const entry = await Promise.resolve(inner.get(id)).catch(() => null);
      return entry ? withSerialized(entry) : null;
    },
    invalidate: async (entities) => {
      await Promise.resolve(inner.invalidate(entities)).catch(() => {});
    },
  };
  const responses = createResponseTier({
    generation: () => generation.current(),
    generationOfETag: (etag) => etagPattern.exec(etag)?.[1] ?? null,
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
    enabled: (request) => !request.headers.get('authorization'),
    // results with errors (and rejected operations) are never cached
    shouldCacheResult: ({ result }) => !result.errors?.length,
    invalidateViaMutation: false,
    // node:crypto hashes synchronously; WebCrypto's digest (the library's hashSHA256) is a
    // thread-pool job per request, a fifth of the CPU of a cache hit.
    buildResponseCacheKey: async ({ documentString, variableValues, operationName }) =>
      `${keyPrefix(await generation.current())}${createHash('sha256').update(JSON.stringify([documentString, variableValues ?? {}, operationName ?? null])).digest('hex')}`,
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
