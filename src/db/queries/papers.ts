import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { CategoryRow, IssueRow, PaperRow } from '../schema.js';
import { ISSUE_FIELDS, type IssueField, issueFromValues } from './issues.js';
import { type PageWindow, idValues, preparedRows, selectRows } from './util.js';

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
  date_part('epoch', p.created_at) * 1000 AS "createdAtMs",
  date_part('epoch', p.updated_at) * 1000 AS "updatedAtMs"`);
// (date_part is float8 arithmetic; extract(epoch …) is numeric and costs PostgreSQL several times more per row.)

/**
 * Which of a paper's optional columns a list needs (GraphQL looks ahead at the
 * fields selected on the papers). The columns every paper carries — ids,
 * edition, category, week, section number and position: what identity,
 * cursors, `number`, `issue` and `category` read — are always fetched; the
 * others are null when not asked for. Converting a column to JSON is most of
 * what a page costs PostgreSQL.
 */
export interface PaperColumns {
  title: boolean;
  url: boolean;
  arxivId: boolean;
  version: boolean;
  /** createdAt and updatedAt */
  times: boolean;
}

export const ALL_PAPER_COLUMNS: PaperColumns = { title: true, url: true, arxivId: true, version: true, times: true };

/** A PaperColumns in a statement name: a bit per column. */
export function columnsKey(c: PaperColumns): string {
  return [c.title, c.url, c.arxivId, c.version, c.times].map((on) => (on ? '1' : '0')).join('');
}

/**
 * Which of its edition's columns each paper of a page carries (GraphQL looks
 * ahead at the fields selected on `issue`): none; the listed fields only
 * (besides the id, which every paper has), enough for the usual "title of
 * the edition" and for anything below it that goes by the edition's id; or
 * `full`, the whole row (also for the loader of editions).
 */
export type IssueMode = 'none' | 'full' | readonly IssueField[];

/** An edition's column as a page statement selects it (alias `i`) and as `paperArray` puts it in JSON (alias `p`). */
const ISSUE_FIELD_SQL: Record<IssueField, { select: string; json: string }> = {
  slug: { select: 'i.slug AS i_slug', json: 'p.i_slug' },
  title: { select: 'i.title AS i_title', json: 'p.i_title' },
  subtitle: { select: 'i.subtitle AS i_subtitle', json: 'p.i_subtitle' },
  weekStart: { select: 'i.week_start AS i_week_start', json: 'p.i_week_start::text' },
  weekEnd: { select: 'i.week_end AS i_week_end', json: 'p.i_week_end::text' },
  status: { select: 'i.status AS i_status', json: 'p.i_status' },
  publishedAt: { select: 'i.published_at AS i_published_at', json: "date_part('epoch', p.i_published_at) * 1000" },
  version: { select: 'i.version AS i_version', json: 'p.i_version' },
  createdAt: { select: 'i.created_at AS i_created_at', json: "date_part('epoch', p.i_created_at) * 1000" },
  updatedAt: { select: 'i.updated_at AS i_updated_at', json: "date_part('epoch', p.i_updated_at) * 1000" },
  intro: { select: 'i.intro AS i_intro', json: 'p.i_intro' },
  outro: { select: 'i.outro AS i_outro', json: 'p.i_outro' },
  asides: { select: 'i.asides AS i_asides', json: 'p.i_asides' },
  tableOfContents: { select: 'i.table_of_contents AS i_table_of_contents', json: 'p.i_table_of_contents' },
  importWarnings: { select: 'i.import_warnings AS i_import_warnings', json: 'p.i_import_warnings' },
};

/** The edition's fields a page carries for an IssueMode, in the order of their JSON values. */
function issueFields(issues: IssueMode): readonly IssueField[] {
  return issues === 'none' ? [] : issues === 'full' ? ISSUE_FIELDS : issues;
}

/**
 * A paper's columns as one JSON array (alias `p`), for lists built by
 * PostgreSQL as one JSON value per parent (see `paperFromArray`): arrays cost
 * far less to build than objects, and one JSON value far less to parse than
 * rows. Columns not asked for are NULL (cheap) and keep their place. The
 * edition's fields of the IssueMode follow (see `issueFromValues`).
 */
function paperArray(c: PaperColumns, issues: IssueMode): SQL {
  const or = (on: boolean, column: string) => (on ? column : 'NULL');
  const tail = issueFields(issues)
    .map((f) => `, ${ISSUE_FIELD_SQL[f].json}`)
    .join('');
  return sql.raw(`json_build_array(p.id, p.issue_id, p.section_id, p.category_id, p.week_start::text,
    p.section_number, p.position, ${or(c.title, 'p.title')}, ${or(c.url, 'p.url')}, ${or(c.arxivId, 'p.arxiv_id')},
    ${or(c.version, 'p.version')}, ${or(c.times, "date_part('epoch', p.created_at) * 1000")},
    ${or(c.times, "date_part('epoch', p.updated_at) * 1000")}${tail})`);
}

/** The edition's columns a page statement selects (alias `i`) for an IssueMode, named as `paperArray` reads them. */
function issueColumns(issues: IssueMode): string {
  return issueFields(issues)
    .map((f) => `, ${ISSUE_FIELD_SQL[f].select}`)
    .join('');
}

/** One element of a PAPER_ARRAY list. */
type PaperArray = [
  id: number,
  issueId: number,
  sectionId: number,
  categoryId: number,
  weekStart: string,
  sectionNumber: number,
  position: number,
  title: string,
  url: string | null,
  arxivId: string | null,
  version: number,
  createdAtMs: number | null,
  updatedAtMs: number | null,
  ...edition: unknown[],
];

function paperFromArray(a: PaperArray): PaperRow {
  return {
    id: a[0],
    issueId: a[1],
    sectionId: a[2],
    categoryId: a[3],
    weekStart: a[4],
    sectionNumber: a[5],
    position: a[6],
    title: a[7],
    url: a[8],
    arxivId: a[9],
    version: a[10],
    // (null when not asked for: see PaperColumns)
    createdAt: a[11] == null ? (null as unknown as Date) : new Date(a[11]),
    updatedAt: a[12] == null ? (null as unknown as Date) : new Date(a[12]),
  };
}

/** The same with the summary and the number as written, for single-paper lookups (detail views ask for them). */
const PAPER_DETAIL_COLUMNS = sql.join([PAPER_COLUMNS, sql.raw('p.summary, p.number_as_written AS "numberAsWritten"')], sql`, `);

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

/** The numbers as written (null: as stored) of several papers, in one statement. */
export async function paperNumbersAsWritten(db: Db, ids: readonly number[]): Promise<Map<number, string | null>> {
  if (ids.length === 0) return new Map();
  const rows = await selectRows<{ id: number; numberAsWritten: string | null }>(
    db,
    sql`SELECT p.id, p.number_as_written AS "numberAsWritten" FROM ${idValues(ids, 'want')} JOIN papers p ON p.id = want.id`,
  );
  return new Map(rows.map((r) => [Number(r.id), r.numberAsWritten]));
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

/**
 * The paper numbered `section.position` in the edition with this slug; when
 * no paper has that number, the (first) one whose imported text numbered it
 * so (`number_as_written`, a numbering gap). One statement.
 */
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
          AND ((p.section_number = ${sectionNumber}::int AND p.position = ${position}::int)
            OR p.number_as_written = ${`${sectionNumber}.${position}`}::text) ${visibleJoin(vis)}
        ORDER BY (p.section_number = ${sectionNumber}::int AND p.position = ${position}::int) DESC, p.section_number, p.position
        LIMIT 1`,
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

/** The shape of a paper page request: what its prepared statement depends on. */
interface PageShape {
  parent: PaperParent;
  /** The LIMIT when it is written into the text (LITERAL_LIMITS), else null (bound). */
  literalLimit: number | null;
  outerDesc: boolean;
  innerDesc: boolean;
  drafts: boolean;
  issues: IssueMode;
  columns: PaperColumns;
  has: { cursor: boolean; categories: boolean; issue: boolean; from: boolean; to: boolean };
}

function pageShape(
  parent: PaperParent,
  filter: PaperFilterArgs | undefined,
  window: PageWindow<PaperKey>,
  vis: Visibility,
  issues: IssueMode,
  columns: PaperColumns,
): PageShape {
  return {
    parent,
    columns,
    literalLimit: LITERAL_LIMITS.has(window.limit) ? window.limit : null,
    outerDesc: (window.order === 'DESC') !== window.backward,
    innerDesc: window.backward,
    drafts: vis.drafts,
    issues,
    has: {
      cursor: window.cursor != null,
      categories: filter?.categorySlugs != null && filter.categorySlugs.length > 0,
      issue: filter?.issueSlug != null,
      from: filter?.weekFrom != null,
      to: filter?.weekTo != null,
    },
  };
}

/**
 * Page sizes (plus the one extra row) written into the statement text rather
 * than bound: PostgreSQL cannot estimate `LIMIT $n`, so it would re-plan a
 * statement with a bound limit at every execution; with the number in the
 * text it plans once per connection. Other sizes are bound.
 */
const LITERAL_LIMITS = new Set([2, 6, 11, 21, 51, 101]);

function shapeName(prefix: string, shape: PageShape): string {
  const flags = Object.entries(shape.has)
    .filter(([, on]) => on)
    .map(([k]) => `_${k}`)
    .join('');
  return `${prefix}_${issuesKey(shape.issues)}${shape.parent}_${shape.outerDesc ? 'd' : 'a'}${shape.innerDesc ? 'd' : 'a'}_${shape.drafts ? 'all' : 'pub'}_l${shape.literalLimit ?? 'n'}_c${columnsKey(shape.columns)}${flags}`;
}

/** An IssueMode in a statement name: '', 'full_', or 'i' and a bit per field of ISSUE_FIELDS. */
function issuesKey(issues: IssueMode): string {
  if (issues === 'none') return '';
  if (issues === 'full') return 'full_';
  return `i${ISSUE_FIELDS.map((f) => (issues.includes(f) ? '1' : '0')).join('')}_`;
}

/** Placeholder values of a page statement (unused ones are ignored). */
function pageValues(filter: PaperFilterArgs | undefined, window: PageWindow<PaperKey>): Record<string, unknown> {
  return {
    categorySlugs: filter?.categorySlugs && filter.categorySlugs.length > 0 ? [...filter.categorySlugs] : undefined,
    issueSlug: filter?.issueSlug ?? undefined,
    weekFrom: filter?.weekFrom ?? undefined,
    weekTo: filter?.weekTo ?? undefined,
    week: window.cursor?.[0],
    issueId: window.cursor?.[1],
    sectionNumber: window.cursor?.[2],
    position: window.cursor?.[3],
    limit: window.limit,
  };
}

/**
 * The page of one parent (the outer query's `parent.id`) in a statement of
 * this shape, walking the archive-order index from the cursor, and its order.
 */
function pageSql(shape: PageShape): { page: SQL; orderBy: SQL } {
  const { has, outerDesc, innerDesc } = shape;
  const o = outerDesc ? 'DESC' : 'ASC';
  const i = innerDesc ? 'DESC' : 'ASC';
  const orderBy = sql.raw(`p.week_start ${o}, p.issue_id ${o}, p.section_number ${i}, p.position ${i}`);
  const parentColumn = sql.raw(shape.parent === 'category' ? 'p.category_id' : 'p.issue_id');
  const conditions: SQL[] = [];
  if (has.categories) {
    conditions.push(sql`AND p.category_id IN (SELECT fc.id FROM categories fc WHERE fc.slug = ANY(${sql.placeholder('categorySlugs')}::text[]))`);
  }
  if (has.issue) conditions.push(sql`AND p.issue_id = (SELECT fi.id FROM issues fi WHERE fi.slug = ${sql.placeholder('issueSlug')}::text)`);
  if (has.from) conditions.push(sql`AND p.week_start >= ${sql.placeholder('weekFrom')}::date`);
  if (has.to) conditions.push(sql`AND p.week_start <= ${sql.placeholder('weekTo')}::date`);
  if (has.cursor) {
    const week = sql`${sql.placeholder('week')}::date`;
    const issueId = sql`${sql.placeholder('issueId')}::int`;
    const outerOp = sql.raw(outerDesc ? '<' : '>');
    const innerOp = sql.raw(innerDesc ? '<' : '>');
    const bound = sql.raw(outerDesc ? '<=' : '>=');
    // The first, redundant bound on week_start lets the index start at the cursor.
    conditions.push(sql`AND p.week_start ${bound} ${week} AND (
      p.week_start ${outerOp} ${week}
      OR (p.week_start = ${week} AND (
        p.issue_id ${outerOp} ${issueId}
        OR (p.issue_id = ${issueId} AND (p.section_number, p.position) ${innerOp}
            (${sql.placeholder('sectionNumber')}::int, ${sql.placeholder('position')}::int)))))`);
  }
  // With the edition's columns, one primary-key lookup of the edition gives them and its visibility.
  const edition =
    shape.issues === 'none'
      ? { join: sql``, visible: visibleJoin({ drafts: shape.drafts }) }
      : { join: sql`JOIN issues i ON i.id = p.issue_id`, visible: shape.drafts ? sql`` : sql`AND i.status = 'published'` };
  // Only the optional columns the page puts in its JSON (see paperArray).
  const c = shape.columns;
  const optional = [c.title && 'p.title', c.url && 'p.url', c.arxivId && 'p.arxiv_id', c.version && 'p.version', c.times && 'p.created_at, p.updated_at']
    .filter(Boolean)
    .map((column) => `, ${column}`)
    .join('');
  const page = sql`SELECT p.id, p.issue_id, p.section_id, p.category_id, p.week_start, p.section_number, p.position${sql.raw(optional)}${sql.raw(issueColumns(shape.issues))}
    FROM papers p ${edition.join}
    WHERE ${parentColumn} = parent.id ${sql.join(conditions, sql` `)} ${edition.visible}
    ORDER BY ${orderBy} LIMIT ${shape.literalLimit != null ? sql.raw(String(shape.literalLimit)) : sql`${sql.placeholder('limit')}::int`}`;
  return { page, orderBy };
}

/** Rows of a page statement: one per parent. */
interface PageStatementRow {
  parentId: number;
  parent?: unknown;
  papers: PaperArray[] | null;
}

/**
 * The page statement over a set of parents (`parents` is a relation with
 * columns `id` and `ord`, plus what `parentColumn` selects): one row per
 * parent with its page as one JSON array (a correlated subquery per parent:
 * nothing is materialized or sorted but the page itself), each paper with
 * its edition's columns when the shape asks for them.
 */
function pagesStatement(shape: PageShape, parentsSql: SQL, parentColumn: SQL): SQL {
  const { page, orderBy } = pageSql(shape);
  return sql`SELECT parent.id AS "parentId", parent.ord, ${parentColumn} AS parent,
      (SELECT json_agg(${paperArray(shape.columns, shape.issues)} ORDER BY ${orderBy}) FROM (${page}) p) AS papers
    FROM (${parentsSql}) parent`;
}

/**
 * The papers of a page statement's rows, each with `parentId` and, when the
 * shape carried editions, `edition` (one object per edition, shared by its
 * papers); with `full` rows the editions are also returned, complete, for
 * the issue loader.
 */
function readPages(rows: PageStatementRow[], mode: IssueMode): { papers: PaperInPage[]; issues: IssueRow[] } {
  const papers: PaperInPage[] = [];
  const editions = new Map<number, IssueRow>();
  for (const r of rows) {
    for (const a of r.papers ?? []) {
      const paper = paperFromArray(a) as PaperInPage;
      paper.parentId = r.parentId;
      if (mode !== 'none') {
        let edition = editions.get(paper.issueId);
        if (!edition) {
          edition = issueFromValues(paper.issueId, issueFields(mode), a.slice(13));
          editions.set(paper.issueId, edition);
        }
        paper.edition = edition;
      }
      papers.push(paper);
    }
  }
  return { papers, issues: mode === 'full' ? [...editions.values()] : [] };
}

/**
 * A paper of a page: its parent's id and, when the page carried them, its
 * edition's columns (see IssueMode: the fields not asked for are null).
 * These rows stay with their page (they are not the paper loader's).
 */
export type PaperInPage = PaperRow & { parentId: number; edition?: IssueRow };

/**
 * One page of papers for each of several parents (categories or editions), in
 * ONE prepared statement (one per shape of the request: parent kind,
 * direction, cursor or not, which filters, drafts or not): a subquery per
 * parent walks the index from the cursor, so the cost does not grow with the
 * depth of the page, and returns the page as one JSON array. With
 * `issues`, the papers' editions come in the same statement (see IssueMode).
 */
export async function pagePapersByParents(
  db: Db,
  parent: PaperParent,
  parentIds: readonly number[],
  filter: PaperFilterArgs | undefined,
  window: PageWindow<PaperKey>,
  vis: Visibility,
  options: { issues?: IssueMode; columns?: PaperColumns } = {},
): Promise<{ papers: PaperInPage[]; issues: IssueRow[] }> {
  if (parentIds.length === 0) return { papers: [], issues: [] };
  const mode = options.issues ?? 'none';
  const shape = pageShape(parent, filter, window, vis, mode, options.columns ?? ALL_PAPER_COLUMNS);
  const rows = await preparedRows<PageStatementRow>(
    db,
    shapeName('paper_pages_v5', shape),
    () =>
      pagesStatement(
        shape,
        sql`SELECT u.id, u.ord FROM unnest(${sql.placeholder('parentIds')}::int[]) WITH ORDINALITY AS u(id, ord)`,
        sql`NULL::json`,
      ),
    { ...pageValues(filter, window), parentIds: [...parentIds] },
  );
  return readPages(rows, mode);
}

/** [id, slug, name, description, createdAtMs, updatedAtMs] */
type CategoryArray = [number, string, string, string, number, number];

/**
 * Every category (alphabetically by name, as Query.categories) with one page
 * of its papers, and with `issues` the papers' editions: a whole category
 * listing in ONE statement.
 */
export async function categoriesWithPages(
  db: Db,
  filter: PaperFilterArgs | undefined,
  window: PageWindow<PaperKey>,
  vis: Visibility,
  options: { issues?: IssueMode; columns?: PaperColumns } = {},
): Promise<{ categories: CategoryRow[]; papers: PaperInPage[]; issues: IssueRow[] }> {
  const mode = options.issues ?? 'none';
  const shape = pageShape('category', filter, window, vis, mode, options.columns ?? ALL_PAPER_COLUMNS);
  const rows = await preparedRows<PageStatementRow & { ord: number | string }>(
    db,
    shapeName('category_listing_v3', shape),
    () =>
      pagesStatement(
        shape,
        sql`SELECT c.id, row_number() OVER (ORDER BY c.name, c.id) AS ord,
              json_build_array(c.id, c.slug, c.name, c.description,
                date_part('epoch', c.created_at) * 1000, date_part('epoch', c.updated_at) * 1000) AS row
            FROM categories c`,
        sql`parent.row`,
      ),
    pageValues(filter, window),
  );
  const listed = [...rows].sort((a, b) => Number(a.ord) - Number(b.ord));
  const categories = listed.map((r) => {
    const a = r.parent as CategoryArray;
    return { id: a[0], slug: a[1], name: a[2], description: a[3], createdAt: new Date(a[4]), updatedAt: new Date(a[5]) };
  });
  return { categories, ...readPages(rows, mode) };
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
