import type { PageWindow, SortDirection } from '../db/queries/util.js';
import { userInputError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A keyset cursor is the sort key of a row, tagged with what it paginates. */
export interface CursorCodec<K> {
  kind: string;
  /** Checks a decoded JSON value and returns it as a key, or null when it is not one. */
  validate(value: unknown): K | null;
}

export function encodeCursor<K>(codec: CursorCodec<K>, key: K): string {
  return Buffer.from(JSON.stringify([codec.kind, key]), 'utf8').toString('base64url');
}

export function decodeCursor<K>(codec: CursorCodec<K>, cursor: string, argumentName: string): K {
  const invalid = () => userInputError(`\`${argumentName}\` is not a valid cursor for this connection`, argumentName);
  if (cursor.length === 0 || cursor.length > 300 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || parsed[0] !== codec.kind) throw invalid();
  const key = codec.validate(parsed[1]);
  if (key === null) throw invalid();
  return key;
}

export interface Window<K> extends PageWindow<K> {
  /** Page size the client asked for (limit is one more when the page peeks past its end). */
  size: number;
}

function checkSize(value: number | null | undefined, name: string): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw userInputError(`\`${name}\` must be between 1 and ${MAX_PAGE_SIZE} (got ${value})`, name);
  }
  return value;
}

/**
 * Turns Relay arguments into a keyset window, rejecting bad combinations
 * before any SQL runs. `first` and `last` together are refused, as are
 * `after` with `last` and `before` with `first` (ambiguous).
 *
 * `peek`: read one row past the page to tell whether more follow (what
 * `pageInfo` reports); false when the client selected no `pageInfo`
 * (lookahead.ts `selectsPageInfo`), so the statement reads the page only.
 */
export function windowFromArgs<K>(
  args: ConnectionArgs,
  order: SortDirection,
  codec: CursorCodec<K>,
  peek = true,
): Window<K> {
  const first = checkSize(args.first, 'first');
  const last = checkSize(args.last, 'last');
  if (first !== null && last !== null) throw userInputError('Pass either `first` or `last`, not both', 'last');
  const backward = last !== null || (first === null && args.before != null);
  if (backward && args.after != null)
    throw userInputError('`after` goes with `first`; use `before` with `last`', 'after');
  if (!backward && args.before != null)
    throw userInputError('`before` goes with `last`; use `after` with `first`', 'before');
  const size = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;
  const raw = backward ? args.before : args.after;
  const cursor = raw != null ? decodeCursor(codec, raw, backward ? 'before' : 'after') : null;
  return { order, backward, cursor, limit: peek ? size + 1 : size, size };
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** Resolved only when the client asks for it. */
  totalCount: () => Promise<number>;
}

/** An edge whose cursor is encoded only when a client reads it (most pages ask for nodes only). */
class Edge<T, K> {
  constructor(
    readonly node: T,
    private readonly codec: CursorCodec<K>,
    private readonly keyOf: (row: T) => K,
  ) {}
  get cursor(): string {
    return encodeCursor(this.codec, this.keyOf(this.node));
  }
}

/** Builds the Relay connection from the rows fetched in walking order (`size + 1` when the window peeks). */
export function toConnection<T, K>(
  rows: T[],
  window: Window<K>,
  codec: CursorCodec<K>,
  keyOf: (row: T) => K,
  totalCount: () => Promise<number>,
): Connection<T> {
  const hasMore = rows.length > window.size;
  const page = hasMore ? rows.slice(0, window.size) : rows.slice();
  if (window.backward) page.reverse();
  const edges = page.map((node) => new Edge(node, codec, keyOf));
  return {
    edges,
    pageInfo: {
      hasNextPage: window.backward ? window.cursor !== null : hasMore,
      hasPreviousPage: window.backward ? hasMore : window.cursor !== null,
      get startCursor() {
        return edges[0]?.cursor ?? null;
      },
      get endCursor() {
        return edges[edges.length - 1]?.cursor ?? null;
      },
    },
    totalCount,
  };
}

/** A real calendar date written YYYY-MM-DD (so the database cast cannot fail). */
export function isIsoDate(v: unknown): v is string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}
const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 2_147_483_647;
const isPos = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 999;

export const issueCursor: CursorCodec<[string, number]> = {
  kind: 'issue',
  validate: (v) => (Array.isArray(v) && v.length === 2 && isIsoDate(v[0]) && isId(v[1]) ? [v[0], v[1]] : null),
};

export const paperCursor: CursorCodec<[string, number, number, number]> = {
  kind: 'paper',
  validate: (v) =>
    Array.isArray(v) && v.length === 4 && isIsoDate(v[0]) && isId(v[1]) && isPos(v[2]) && isPos(v[3])
      ? [v[0], v[1], v[2], v[3]]
      : null,
};

/** A `Date` scalar value as the YYYY-MM-DD string the database compares. */
export function isoDate(value: Date | null | undefined): string | null {
  return value ? value.toISOString().slice(0, 10) : null;
}
