import { createHash } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import { Name, SQL as SqlClass, StringChunk, sql } from '../orm.js';
import type { Db } from '../client.js';
import { usesUnnamedStatements } from '../unnamed-statements.js';

/** Runs a raw statement and returns its rows (same shape on PGlite and pg). */
export async function selectRows<T>(db: Db, query: SQL): Promise<T[]> {
  const flat = flattenSql(query);
  if (!flat) return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
  // what db.execute does, with the text and values made by flattenSql
  const { session } = db as unknown as DbInternals;
  const result = (await session.prepareQuery(flat, undefined, undefined, false).execute()) as { rows: T[] };
  return result.rows;
}

/**
 * The text and values of a statement made of the pieces this application's SQL uses — literal text (`sql`…``,
 * `sql.raw`, `sql.join`), nested statements, identifiers (`sql.identifier`), and string, number and boolean
 * values — exactly as Drizzle's `sqlToQuery` writes them for PostgreSQL (values as $1, $2 … in order;
 * tests/sql-flatten.test.ts compares the two); null for anything else (columns, tables, placeholders, lists,
 * inlined values), which Drizzle then writes. Why not Drizzle's: it tests each piece against each kind in turn by
 * walking prototype chains, ~0.4 µs a piece; a search statement has ~250 pieces, ~100 µs of every search
 * request's CPU (BENCHMARKS.md).
 */
export function flattenSql(query: SQL): { sql: string; params: unknown[] } | null {
  const out = { text: '', params: [] as unknown[] };
  return appendChunks(query, out) ? { sql: out.text, params: out.params } : null;
}

function appendChunks(query: SQL, out: { text: string; params: unknown[] }): boolean {
  if ((query as unknown as { shouldInlineParams: boolean }).shouldInlineParams) return false;
  for (const chunk of query.queryChunks as unknown[]) {
    if (chunk instanceof StringChunk) {
      for (const part of chunk.value) out.text += part;
    } else if (chunk instanceof SqlClass) {
      if (!appendChunks(chunk, out)) return false;
    } else if (chunk instanceof Name) {
      out.text += `"${chunk.value.replace(/"/g, '""')}"`;
    } else if (typeof chunk === 'string' || typeof chunk === 'number' || typeof chunk === 'boolean') {
      out.params.push(chunk);
      out.text += `$${out.params.length}`;
    } else {
      return false;
    }
  }
  return true;
}

interface PreparedStatement {
  execute(values?: Record<string, unknown>): Promise<unknown>;
}
interface DbInternals {
  session: {
    prepareQuery(
      query: { sql: string; params: unknown[] },
      fields: undefined,
      name: string | undefined,
      arrayMode: boolean,
    ): PreparedStatement;
  };
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
}
const preparedBySession = new WeakMap<object, Map<string, unknown>>();
/**
 * Most named statements per database handle: each one is kept by every
 * pooled connection of the server, so their number is bounded whatever the
 * clients send; beyond it, statements run unnamed (planned every time).
 */
export const MAX_PREPARED = 200;

/** PostgreSQL cuts identifiers at 63 bytes: two long names with one prefix would name one statement. */
const MAX_NAME_BYTES = 63;

/** The name sent to the server: `name` itself, or when too long its start and a hash of all of it. */
export function serverName(name: string): string {
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('base64url').slice(0, 22);
  return `${name.slice(0, MAX_NAME_BYTES - hash.length - 1)}_${hash}`;
}

/**
 * A statement prepared under a fixed name, built once per database handle
 * (`build` runs once, with `sql.placeholder(...)` for every value). On
 * PostgreSQL each pooled connection then parses and plans it once and after
 * that only binds and executes it: hot read paths skip both Drizzle's query
 * building and the server's planning. A name must always stand for the same
 * text. Statements still go through Drizzle's logger (tests count them).
 */
export function prepared<P extends PreparedStatement>(db: Db, name: string, build: (name: string | undefined) => P): P {
  const session = (db as unknown as DbInternals).session;
  let byName = preparedBySession.get(session);
  if (!byName) {
    byName = new Map();
    preparedBySession.set(session, byName);
  }
  let statement = byName.get(name) as P | undefined;
  if (!statement) {
    if (byName.size >= MAX_PREPARED) return build(undefined);
    statement = build(usesUnnamedStatements(db) ? undefined : serverName(name));
    byName.set(name, statement);
  }
  return statement;
}

/** Runs a raw statement prepared under a fixed name (see `prepared`) and returns its rows. */
export async function preparedRows<T>(
  db: Db,
  name: string,
  build: () => SQL,
  values: Record<string, unknown>,
): Promise<T[]> {
  const statement = prepared(db, name, (as) => {
    const internals = db as unknown as DbInternals;
    return internals.session.prepareQuery(internals.dialect.sqlToQuery(build()), undefined, as, false);
  });
  const result = (await statement.execute(values)) as { rows: T[] };
  return result.rows;
}

/** `(VALUES ($1::int), ($2::int), …) AS name(id)` — a batch of parent ids as a relation. */
export function idValues(ids: readonly number[], alias: string): SQL {
  const rows = sql.join(
    ids.map((id) => sql`(${id}::int)`),
    sql`, `,
  );
  return sql`(VALUES ${rows}) AS ${sql.identifier(alias)}(id)`;
}

/** Order of a keyset page: which way the natural order runs, and which way we walk it. */
export type SortDirection = 'ASC' | 'DESC';

export interface PageWindow<K> {
  /** Natural order requested by the client. */
  order: SortDirection;
  /** true for `last`/`before`: walk the order backwards from the cursor. */
  backward: boolean;
  /** Key of the row to start after (forward) or before (backward). */
  cursor: K | null;
  /** Rows to fetch (page size + 1, to know whether there is another page). */
  limit: number;
}

/** The flags that are on, in a statement name: `_cursor_from`. */
export function flagsKey(flags: Record<string, boolean>): string {
  return Object.entries(flags)
    .filter(([, on]) => on)
    .map(([k]) => `_${k}`)
    .join('');
}
