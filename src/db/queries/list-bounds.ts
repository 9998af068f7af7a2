import type { Db } from '../client.js';

/** The largest plain (unpaged) lists the archive holds now, drafts included. */
export interface ListBoundRow {
  categories: number;
  sections: number;
  papers: number;
  asides: number;
  warnings: number;
}

const LIST_BOUNDS_SQL = `SELECT
  (SELECT count(*) FROM categories)::int AS categories,
  (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM sections GROUP BY issue_id) s)::int AS sections,
  (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM papers GROUP BY section_id) p)::int AS papers,
  (SELECT coalesce(max(jsonb_array_length(asides)), 0) FROM issues)::int AS asides,
  (SELECT coalesce(max(jsonb_array_length(import_warnings)), 0) FROM issues)::int AS warnings`;

/**
 * Reads them on the driver itself (PGlite or the pg Pool), not through
 * Drizzle's logger: it runs after writes, in the background, and is no
 * statement of any request.
 */
export async function readListBounds(db: Db): Promise<ListBoundRow> {
  const client = (db as unknown as { $client: { query(text: string): Promise<{ rows: ListBoundRow[] }> } }).$client;
  const { rows } = await client.query(LIST_BOUNDS_SQL);
  return rows[0]!;
}
