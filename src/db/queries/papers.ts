import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { PaperRow } from '../schema.js';
import { type PageWindow, idValues, selectRows } from './util.js';

/** Keyset of a paper in archive order: edition week, edition id, section number, position. */
export type PaperKey = [weekStart: string, issueId: number, sectionNumber: number, position: number];

export interface PaperFilterArgs {
  /** Any of these category slugs. */
  categorySlugs?: readonly string[] | null;
  /** Only the edition with this slug. */
  issueSlug?: string | null;
  /** Edition week starting on or after this date (YYYY-MM-DD). */
  weekFrom?: string | null;
  /** Edition week starting on or before this date (YYYY-MM-DD). */
  weekTo?: string | null;
}

export interface Visibility {
  /** Editors see drafts; anonymous readers see published editions only. */
  drafts: boolean;
}

// One column list and one row mapper for every paper list query (here and in
// search.ts), so that PGlite and pg return the same JS types (dates as text,
// timestamps as epoch ms). The summary is left out: see PaperRow.
export const PAPER_COLUMNS = sql.raw(`p.id, p.issue_id AS "issueId", p.section_id AS "sectionId",
  p.category_id AS "categoryId", p.week_start::text AS "weekStart", p.section_number AS "sectionNumber",
  p.position, p.title, p.url, p.arxiv_id AS "arxivId", p.version,
  (extract(epoch from p.created_at) * 1000)::float8 AS "createdAtMs",
  (extract(epoch from p.updated_at) * 1000)::float8 AS "updatedAtMs"`);

/** The same with the summary, for single-paper lookups (detail views ask for it). */
const PAPER_DETAIL_COLUMNS = sql.join([PAPER_COLUMNS, sql.raw('p.summary')], sql`, `);

export interface RawPaper extends Omit<PaperRow, 'createdAt' | 'updatedAt' | 'summary'> {
  createdAtMs: number;
  updatedAtMs: number;
}

/**
 * Maps a raw row (and whatever extra columns it carries) to a PaperRow, in
 * place: this runs for every paper of every list, so it allocates nothing but
 * the two dates (the epoch columns stay on the object, unused).
 */
export function toPaper<T extends RawPaper>(raw: T): T & PaperRow {
  const row = raw as T & PaperRow;
  row.createdAt = new Date(Number(raw.createdAtMs));
  row.updatedAt = new Date(Number(raw.updatedAtMs));
  return row;
}

/** Summaries of several papers, in one statement. */
export async function paperSummaries(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await selectRows<{ id: number; summary: string }>(
    db,
    sql`SELECT p.id, p.summary FROM ${idValues(ids, 'want')} JOIN papers p ON p.id = want.id`,
  );
  return new Map(rows.map((r) => [Number(r.id), r.summary]));
}

function visibleJoin(vis: Visibility): SQL {
  return vis.drafts
    ? sql``
    : sql`AND EXISTS (SELECT 1 FROM issues vi WHERE vi.id = p.issue_id AND vi.status = 'published')`;
}

/** The `AND …` conditions of a PaperFilter (also used by search). */
export function filterSql(filter: PaperFilterArgs | undefined): SQL {
  const parts: SQL[] = [];
  if (filter?.categorySlugs && filter.categorySlugs.length > 0) {
    const slugs = sql.join(
      filter.categorySlugs.map((s) => sql`${s}`),
      sql`, `,
    );
    parts.push(sql`AND p.category_id IN (SELECT fc.id FROM categories fc WHERE fc.slug IN (${slugs}))`);
  }
  if (filter?.issueSlug != null) {
    parts.push(sql`AND p.issue_id = (SELECT fi.id FROM issues fi WHERE fi.slug = ${filter.issueSlug})`);
  }
  if (filter?.weekFrom != null) parts.push(sql`AND p.week_start >= ${filter.weekFrom}::date`);
  if (filter?.weekTo != null) parts.push(sql`AND p.week_start <= ${filter.weekTo}::date`);
  return sql.join(parts, sql` `);
}

/**
 * Keyset condition and ORDER BY for archive order. DESC (the default) is
 * newest edition first and, inside an edition, by number ascending; ASC is
 * oldest edition first, still by number ascending inside it.
 */
function keysetSql(window: PageWindow<PaperKey>): { where: SQL; orderBy: SQL } {
  // Direction of (week, issue) and of (section, position) as actually walked.
  const outerDesc = (window.order === 'DESC') !== window.backward;
  const innerDesc = window.backward;
  const o = outerDesc ? 'DESC' : 'ASC';
  const i = innerDesc ? 'DESC' : 'ASC';
  const orderBy = sql.raw(`p.week_start ${o}, p.issue_id ${o}, p.section_number ${i}, p.position ${i}`);
  if (!window.cursor) return { where: sql``, orderBy };
  const [week, issueId, sectionNumber, position] = window.cursor;
  const outerOp = sql.raw(outerDesc ? '<' : '>');
  const innerOp = sql.raw(innerDesc ? '<' : '>');
  const bound = sql.raw(outerDesc ? '<=' : '>=');
  // The first, redundant bound on week_start lets the index start at the cursor.
  const where = sql`AND p.week_start ${bound} ${week}::date AND (
    p.week_start ${outerOp} ${week}::date
    OR (p.week_start = ${week}::date AND (
      p.issue_id ${outerOp} ${issueId}::int
      OR (p.issue_id = ${issueId}::int AND (p.section_number, p.position) ${innerOp} (${sectionNumber}::int, ${position}::int)))))`;
  return { where, orderBy };
}

export function paperKey(row: PaperRow): PaperKey {
  return [row.weekStart, row.issueId, row.sectionNumber, row.position];
}

export async function papersByIds(db: Db, ids: readonly number[], vis: Visibility): Promise<PaperRow[]> {
  if (ids.length === 0) return [];
  const rows = await selectRows<RawPaper>(
    db,
    sql`SELECT ${PAPER_DETAIL_COLUMNS} FROM ${idValues(ids, 'want')} JOIN papers p ON p.id = want.id WHERE true ${visibleJoin(vis)}`,
  );
  return rows.map(toPaper);
}

/** All papers of several sections, in section then position order. */
export async function papersBySectionIds(db: Db, sectionIds: readonly number[]): Promise<PaperRow[]> {
  if (sectionIds.length === 0) return [];
  const rows = await selectRows<RawPaper>(
    db,
    sql`SELECT ${PAPER_COLUMNS} FROM ${idValues(sectionIds, 'want')} JOIN papers p ON p.section_id = want.id
        ORDER BY p.section_id, p.position`,
  );
  return rows.map(toPaper);
}

/** The paper numbered `section.position` in the edition with this slug. */
export async function paperByNumber(
  db: Db,
  issueSlug: string,
  sectionNumber: number,
  position: number,
  vis: Visibility,
): Promise<PaperRow | null> {
  const rows = await selectRows<RawPaper>(
    db,
    sql`SELECT ${PAPER_DETAIL_COLUMNS} FROM papers p
        WHERE p.issue_id = (SELECT i.id FROM issues i WHERE i.slug = ${issueSlug})
          AND p.section_number = ${sectionNumber}::int AND p.position = ${position}::int ${visibleJoin(vis)}`,
  );
  const first = rows[0];
  return first ? toPaper(first) : null;
}

/** One page of papers across the whole archive. */
export async function pagePapers(
  db: Db,
  filter: PaperFilterArgs | undefined,
  window: PageWindow<PaperKey>,
  vis: Visibility,
): Promise<PaperRow[]> {
  const { where, orderBy } = keysetSql(window);
  const rows = await selectRows<RawPaper>(
    db,
    sql`SELECT ${PAPER_COLUMNS} FROM papers p
        WHERE true ${filterSql(filter)} ${visibleJoin(vis)} ${where}
        ORDER BY ${orderBy} LIMIT ${window.limit}::int`,
  );
  return rows.map(toPaper);
}

export type PaperParent = 'category' | 'issue';

/**
 * One page of papers for each of several parents (categories or editions), in
 * ONE statement: a LATERAL subquery per parent walks the index from the
 * cursor, so the cost does not grow with the depth of the page.
 */
export async function pagePapersByParents(
  db: Db,
  parent: PaperParent,
  parentIds: readonly number[],
  filter: PaperFilterArgs | undefined,
  window: PageWindow<PaperKey>,
  vis: Visibility,
): Promise<Array<PaperRow & { parentId: number }>> {
  if (parentIds.length === 0) return [];
  const { where, orderBy } = keysetSql(window);
  const parentColumn = sql.raw(parent === 'category' ? 'p.category_id' : 'p.issue_id');
  const rows = await selectRows<RawPaper & { parentId: number }>(
    db,
    sql`SELECT parent.id AS "parentId", page.* FROM ${idValues(parentIds, 'parent')}
        CROSS JOIN LATERAL (
          SELECT ${PAPER_COLUMNS} FROM papers p
          WHERE ${parentColumn} = parent.id ${filterSql(filter)} ${visibleJoin(vis)} ${where}
          ORDER BY ${orderBy} LIMIT ${window.limit}::int
        ) page`,
  );
  return rows.map((r) => ({ ...toPaper(r), parentId: r.parentId }));
}

/** Number of papers matching the filter, overall. */
export async function countPapers(db: Db, filter: PaperFilterArgs | undefined, vis: Visibility): Promise<number> {
  const rows = await selectRows<{ n: number | string }>(
    db,
    sql`SELECT count(*)::int AS n FROM papers p WHERE true ${filterSql(filter)} ${visibleJoin(vis)}`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Number of papers matching the filter, per parent, in one statement. */
export async function countPapersByParents(
  db: Db,
  parent: PaperParent,
  parentIds: readonly number[],
  filter: PaperFilterArgs | undefined,
  vis: Visibility,
): Promise<Map<number, number>> {
  const counts = new Map<number, number>(parentIds.map((id) => [id, 0]));
  if (parentIds.length === 0) return counts;
  const parentColumn = sql.raw(parent === 'category' ? 'p.category_id' : 'p.issue_id');
  const rows = await selectRows<{ parentId: number; n: number | string }>(
    db,
    sql`SELECT ${parentColumn} AS "parentId", count(*)::int AS n FROM papers p
        WHERE ${parentColumn} IN (SELECT id FROM ${idValues(parentIds, 'parent')})
        ${filterSql(filter)} ${visibleJoin(vis)}
        GROUP BY 1`,
  );
  for (const r of rows) counts.set(Number(r.parentId), Number(r.n));
  return counts;
}
