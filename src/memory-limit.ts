import { collectGarbageNow } from './gc.js';

/**
 * A soft limit on the process's resident memory (MEMORY_SOFT_LIMIT_MB), in the spirit of Go's GOMEMLIMIT: when RSS
 * is above it, V8 is asked for a full collection now rather than when its old generation next reaches its own
 * limit, one that also shrinks its young generation (gc.ts: a regular one leaves the 2 × 16 MB that load grew it
 * to, and collections under load then did not lower the peak). Under load the server's live heap stays ~40 MB, but
 * V8 lets garbage promoted by in-flight requests grow the old generation to three times that before collecting
 * (`--heap-growing-percent=200`, chosen for CPU per request), so the peak grows with the length of the load
 * (BENCHMARKS.md, `startup`). A lower growing factor collects that often under every load; this collects only while
 * memory is over the limit.
 *
 * Bounded in cost: at most one collection a second, and never more than 1/20 of the time (a collection that took
 * 50 ms waits 1 s). When memory is still over the limit after a collection (the live memory itself exceeds it),
 * collecting again would only burn CPU: the wait doubles, up to a minute, and after three such collections in a
 * row `onOver` is told, once, until memory falls under the limit again.
 */

export interface MemorySoftLimitOptions {
  limitBytes: number;
  /** Called once when WARN_AFTER collections in a row did not bring RSS under the limit (again after it was under). */
  onOver?: (rssBytes: number) => void;
  /** Called after each collection this made. */
  onCollect?: () => void;
  /** For tests: RSS, the collection, the clock (ms). */
  rss?: () => number;
  collect?: () => boolean;
  now?: () => number;
}

export interface MemorySoftLimit {
  /** One look at RSS (run every SAMPLE_MS by `startMemorySoftLimit`). */
  check(): void;
  /** Collections made so far. */
  collections(): number;
  stop(): void;
}

const SAMPLE_MS = 250;
const MIN_GAP_MS = 1_000;
const MAX_GAP_MS = 60_000;
/**
 * Collections in a row that leave RSS over the limit before `onOver` is told: one alone may be a moment's peak
 * (V8 compiling PGlite's WebAssembly just after start holds ~500 MB outside the heap for ~1.5 s).
 */
const WARN_AFTER = 3;
/** A collection is followed by at least this many times its own duration without one. */
const GAP_PER_COLLECTION_MS = 20;

/** The limit's logic, driven by `check()`; no timer. */
export function memorySoftLimit(options: MemorySoftLimitOptions): MemorySoftLimit {
  const rss = options.rss ?? (() => process.memoryUsage.rss());
  // (shrinking: a regular full collection keeps the young generation's pages, most of what load adds)
  const collect = options.collect ?? (() => collectGarbageNow({ shrink: true }));
  const now = options.now ?? (() => performance.now());
  let collections = 0;
  let gap = MIN_GAP_MS;
  let next = Number.NEGATIVE_INFINITY;
  /** A collection was made: the next look says whether it brought RSS under the limit (V8 unmaps pages a little after). */
  let judging = false;
  /** Collections in a row that left RSS over the limit. */
  let ineffective = 0;
  return {
    check() {
      const current = rss();
      if (judging) {
        judging = false;
        if (current > options.limitBytes) {
          gap = Math.min(gap * 2, MAX_GAP_MS);
          ineffective++;
          if (ineffective === WARN_AFTER) options.onOver?.(current);
        } else {
          gap = MIN_GAP_MS;
          ineffective = 0;
        }
      }
      if (current <= options.limitBytes || now() < next) return;
      const start = now();
      if (!collect()) return;
      collections++;
      options.onCollect?.();
      const spent = now() - start;
      next = now() + Math.max(gap, GAP_PER_COLLECTION_MS * spent);
      judging = true;
    },
    collections: () => collections,
    stop() {},
  };
}

/** The limit, looked at every SAMPLE_MS (the timer keeps no process alive). */
export function startMemorySoftLimit(options: MemorySoftLimitOptions): MemorySoftLimit {
  const limit = memorySoftLimit(options);
  const timer = setInterval(() => limit.check(), SAMPLE_MS);
  timer.unref();
  return { ...limit, stop: () => clearInterval(timer) };
}
