import type { Db } from '../db/client.js';

/**
 * Remembers, per database, what a search learns about its text before reading
 * a page: the parse of the query (a property of the text alone: kept until
 * evicted) and the plan choices taken from the planner's estimates (the
 * relevance window, "few matches"), kept for PLAN_TTL_MS. Those choices only
 * pick how the page is read; the page is the same either way (searchPage widens
 * a window that turns out too small), so an estimate a few seconds old costs at
 * most speed, never a result. Each saves a statement per search request.
 */

/** Distinct texts remembered per database (least recently used first out). */
const MAX_ENTRIES = 1000;
/** How long a plan choice taken from estimates is reused. */
export const PLAN_TTL_MS = 30_000;

interface Entry {
  value: Promise<unknown>;
  expires: number;
}

const byDb = new WeakMap<Db, Map<string, Entry>>();

/**
 * The value for `key` in `db`'s memo, computed by `compute` when absent or
 * expired (ttlMs: Infinity keeps it until evicted). A failed computation is
 * not remembered.
 */
export function remembered<T>(db: Db, key: string, ttlMs: number, compute: () => Promise<T>): Promise<T> {
  let entries = byDb.get(db);
  if (!entries) {
    entries = new Map();
    byDb.set(db, entries);
  }
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && hit.expires > now) {
    // refresh its place in the LRU order
    entries.delete(key);
    entries.set(key, hit);
    return hit.value as Promise<T>;
  }
  const value = compute();
  const entry: Entry = { value, expires: now + ttlMs };
  entries.set(key, entry);
  value.catch(() => {
    if (entries.get(key) === entry) entries.delete(key);
  });
  if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
  return value;
}
