import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client.js';

/** Runs a raw statement and returns its rows (same shape on PGlite and pg). */
export async function selectRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
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
