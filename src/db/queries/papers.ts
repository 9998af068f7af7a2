import type { SQL } from 'drizzle-orm';
import { sql } from '../orm.js';
import type { Db } from '../client.js';
import {
  ISSUE,
  type IssueMode,
  type IssueView,
  carriedIssueJson,
  carriedIssueSelect,
  issueColumns,
  issueFromValues,
  issueModeKey,
} from '../read-model/issue.js';
import { ALL_PAPER_COLUMNS, PAPER, type PaperColumns, type PaperView, columnsKey } from '../read-model/paper.js';
import type { CategoryRow, IssueRow, PaperRow } from '../schema.js';
import {
  PLACEHOLDERS,
  type PaperFilterArgs,
  type PaperKey,
  type ArchiveWalk,
  type Visibility,
  archiveKeysetSql,
  archiveKeysetValues,
  archiveOrderSql,
  archiveWalk,
  limitSql,
  literalLimit,
  paperFilterFlags,
  paperFilterSql,
  paperFilterValues,
  visibleJoinedIssue,
  visiblePapers,
} from './fragments.js';
import { type PageWindow, flagsKey, idValues, preparedRows, selectRows } from './util.js';

// Every paper read here and in search.ts selects and decodes the columns of
// the paper read model (../read-model/paper.ts): the same JS types on PGlite
// and pg (dates as text, timestamps as epoch ms).

/** Every listed column of a paper, as rows (alias `p`); see PAPER.rowSelect. */
export const PAPER_COLUMNS = sql.raw(PAPER.rowSelect('p'));

/** The same with the detail columns, for single-paper lookups (detail views ask for them). */
const PAPER_DETAIL_COLUMNS = sql.raw(PAPER.rowSelect('p', { detail: true }));

/** A row of PAPER_COLUMNS before `toPaper`. */
export type RawPaper = Record<string, unknown>;

/** A row of PAPER_COLUMNS (and whatever extra columns it carries) as a PaperRow, in place. */
export function toPaper<T extends RawPaper>(raw: T): T & PaperRow {
  return PAPER.decodeRow(raw);
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

/**
 * The cursor key of a paper. A list carries the place of its papers whenever the client selects a cursor (the
 * lookahead's CURSOR): a row without it here is a lookahead that missed a field.
 */
export function paperKey(row: PaperView): PaperKey {
  const { weekStart, issueId, sectionNumber, position } = row;
  if (weekStart === undefined || issueId === undefined || sectionNumber === undefined || position === undefined)
    throw new Error(`paper ${row.id}: read without its place, which its cursor needs`);
  return [weekStart, issueId, sectionNumber, position];
}

export async function papersByIds(db: Db, ids: readonly number[], vis: Visibility): Promise<PaperRow[]> {
  if (ids.length === 0) return [];
  const rows = await selectRows<RawPaper>(
    db,
    sql`SELECT ${PAPER_DETAIL_COLUMNS} FROM ${idValues(ids, 'want')} JOIN papers p ON p.id = want.id WHERE true ${visiblePapers(vis)}`,
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

/** A paper looked up by its number, with its edition and category (from the same statement). */
export interface NumberedPaper {
  paper: PaperRow;
  issue: IssueView;
  category: CategoryRow;
}

/** The whole edition as `paperByNumber` carries it after the paper's columns. */
const NUMBERED_ISSUE_COLUMNS = issueColumns('full');
const NUMBERED_ISSUE_JSON = sql.raw(NUMBERED_ISSUE_COLUMNS.map((c) => ISSUE.valueOf(c, 'i', c.column)).join(', '));

/** A row of the `paperByNumber` statements: the paper, its edition as values, its category. */
type NumberedRow = RawPaper & {
  issueValues: unknown[];
  categorySlug: string;
  categoryName: string;
  categoryDescription: string;
  categoryCreatedMs: number;
  categoryUpdatedMs: number;
};

/** The statement of `paperByNumber` with this condition on papers `p` (the edition `i` by slug). */
function numberedPaperSql(vis: Visibility, condition: SQL, order: SQL): SQL {
  return sql`SELECT ${PAPER_DETAIL_COLUMNS}, json_build_array(${NUMBERED_ISSUE_JSON}) AS "issueValues",
      c.slug AS "categorySlug", c.name AS "categoryName", c.description AS "categoryDescription",
      date_part('epoch', c.created_at) * 1000 AS "categoryCreatedMs",
      date_part('epoch', c.updated_at) * 1000 AS "categoryUpdatedMs"
    FROM issues i JOIN papers p ON p.issue_id = i.id JOIN categories c ON c.id = p.category_id
    WHERE i.slug = ${sql.placeholder('slug')}::text ${visibleJoinedIssue(vis)} AND ${condition}
    ${order}`;
}

/**
 * The paper numbered `section.position` in the edition with this slug; when
 * no paper has that number, the (first) one whose imported text numbered it
 * so (`number_as_written`, a numbering gap). The statement also brings the
 * paper's edition and category: a paper's page shows both, and readers then
 * need no statement of their own.
 */
export async function paperByNumber(
  db: Db,
  issueSlug: string,
  sectionNumber: number,
  position: number,
  vis: Visibility,
): Promise<NumberedPaper | null> {
  // Prepared (one per visibility): the benchmark's one-paper read is mostly this statement, whose
  // parse and plan otherwise cost PostgreSQL as much as running it. The number as stored is looked
  // up alone (a unique key: no OR, no sort), which costs PostgreSQL a sixth less per read than one
  // statement ordering both conditions (BENCHMARKS.md, perf notes); the number as written, rare,
  // only when that finds nothing.
  const suffix = vis.drafts ? 'd' : 'p';
  let rows = await preparedRows<NumberedRow>(
    db,
    `paper_by_number_v2_${suffix}`,
    () =>
      numberedPaperSql(
        vis,
        sql`p.section_number = ${sql.placeholder('section')}::int AND p.position = ${sql.placeholder('position')}::int`,
        sql``,
      ),
    { slug: issueSlug, section: sectionNumber, position },
  );
  if (rows.length === 0) {
    rows = await preparedRows<NumberedRow>(
      db,
      `paper_by_written_number_v1_${suffix}`,
      () =>
        numberedPaperSql(
          vis,
          sql`p.number_as_written = ${sql.placeholder('written')}::text`,
          sql`ORDER BY p.section_number, p.position LIMIT 1`,
        ),
      { slug: issueSlug, written: `${sectionNumber}.${position}` },
    );
  }
  const first = rows[0];
  if (!first) return null;
  const { issueValues, categorySlug, categoryName, categoryDescription, categoryCreatedMs, categoryUpdatedMs, ...raw } =
    first;
  const paper = toPaper(raw);
  return {
    paper,
    issue: issueFromValues(paper.issueId, NUMBERED_ISSUE_COLUMNS, issueValues),
    category: {
      id: paper.categoryId,
      slug: categorySlug,
      name: categoryName,
      description: categoryDescription,
      createdAt: new Date(Number(categoryCreatedMs)),
      updatedAt: new Date(Number(categoryUpdatedMs)),
    },
  };
}

/** One page of papers across the whole archive. */
export async function pagePapers(
  db: Db,
  filter: PaperFilterArgs | undefined,
  window: PageWindow<PaperKey>,
  vis: Visibility,
): Promise<PaperRow[]> {
  const walk = archiveWalk(window);
  const keyset = window.cursor ? archiveKeysetSql(walk, window.cursor) : sql``;
  const rows = await selectRows<RawPaper>(
    db,
    sql`SELECT ${PAPER_COLUMNS} FROM papers p
        WHERE true ${paperFilterSql(filter)} ${visiblePapers(vis)} ${keyset}
        ORDER BY ${archiveOrderSql(walk)} LIMIT ${window.limit}::int`,
  );
  return rows.map(toPaper);
}

export type PaperParent = 'category' | 'issue';

/** The shape of a paper page request: what its prepared statement depends on. */
interface PageShape {
  parent: PaperParent;
  /** The LIMIT when it is written into the text, else null (bound). */
  literalLimit: number | null;
  walk: { outerDesc: boolean; innerDesc: boolean };
  vis: Visibility;
  issues: IssueMode;
  columns: PaperColumns;
  has: { cursor: boolean } & ReturnType<typeof paperFilterFlags>;
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
    // A page's papers that carry their edition carry its id.
    columns: issues === 'none' ? columns : { ...columns, issueId: true },
    literalLimit: literalLimit(window.limit),
    walk: archiveWalk(window),
    vis,
    issues,
    has: { cursor: window.cursor != null, ...paperFilterFlags(filter) },
  };
}

function shapeName(prefix: string, shape: PageShape): string {
  const { walk, vis } = shape;
  const order = `${walk.outerDesc ? 'd' : 'a'}${walk.innerDesc ? 'd' : 'a'}`;
  const limit = `l${shape.literalLimit ?? 'n'}`;
  const columns = `c${columnsKey(shape.columns)}${flagsKey(shape.has)}`;
  return `${prefix}_${issueModeKey(shape.issues)}${shape.parent}_${order}_${vis.drafts ? 'all' : 'pub'}_${limit}_${columns}`;
}

/** Placeholder values of a page statement (unused ones are ignored). */
function pageValues(filter: PaperFilterArgs | undefined, window: PageWindow<PaperKey>): Record<string, unknown> {
  return { ...paperFilterValues(filter), ...archiveKeysetValues(window.cursor), limit: window.limit };
}

/** A paper of a page: the paper's columns of the shape, then its edition's (see IssueMode), in one JSON array. */
function pageArraySql(shape: PageShape): string {
  const edition = issueColumns(shape.issues).map(carriedIssueJson);
  return `json_build_array(${[...PAPER.jsonItems('p', shape.columns), ...edition].join(', ')})`;
}

/**
 * The page of one parent (the outer query's `parent.id`) in a statement of
 * this shape, walking the archive-order index from the cursor: the raw
 * columns that `pageArraySql` reads.
 */
function pageSql(shape: PageShape, filter: PaperFilterArgs | undefined): SQL {
  const parentColumn = sql.raw(shape.parent === 'category' ? 'p.category_id' : 'p.issue_id');
  const keyset = shape.has.cursor ? archiveKeysetSql(shape.walk, null, PLACEHOLDERS) : sql``;
  // With the edition's columns, one primary-key lookup of the edition gives them and its visibility.
  const carried = issueColumns(shape.issues);
  const edition =
    shape.issues === 'none'
      ? { join: sql``, visible: visiblePapers(shape.vis) }
      : { join: sql`JOIN issues i ON i.id = p.issue_id`, visible: visibleJoinedIssue(shape.vis) };
  const columns = [...PAPER.rawColumns('p', shape.columns), ...carried.map(carriedIssueSelect)].join(', ');
  return sql`SELECT ${sql.raw(columns)}
    FROM papers p ${edition.join}
    WHERE ${parentColumn} = parent.id ${paperFilterSql(filter, PLACEHOLDERS)} ${keyset} ${edition.visible}
    ORDER BY ${archiveOrderSql(shape.walk)} LIMIT ${limitSql(shape.literalLimit)}`;
}

/** Rows of a page statement: one per parent. */
interface PageStatementRow {
  parentId: number;
  parent?: unknown;
  papers: unknown[][] | null;
}

/**
 * The page statement over a set of parents (`parents` is a relation with
 * columns `id` and `ord`, plus what `parentColumn` selects): one row per
 * parent with its page as one JSON array (a correlated subquery per parent:
 * nothing is materialized or sorted but the page itself), each paper with
 * its edition's columns when the shape asks for them. Arrays cost far less
 * to build than objects, and one JSON value far less to parse than rows;
 * columns not asked for are left out of the arrays (see ReadModel.jsonItems).
 */
function pagesStatement(
  shape: PageShape,
  filter: PaperFilterArgs | undefined,
  parentsSql: SQL,
  parentColumn: SQL,
): SQL {
  // json_agg takes the page in the subquery's order without an ORDER BY of its own, which would
  // sort every page again (PostgreSQL 15 does not see that it is sorted already: a tenth of a
  // category listing's cost there). SQL does not promise that order, so readPages checks it when the
  // papers carry their place; PostgreSQL's plain aggregate reads its input in the order it comes.
  return sql`SELECT parent.id AS "parentId", parent.ord, ${parentColumn} AS parent,
      (SELECT json_agg(${sql.raw(pageArraySql(shape))})
        FROM (${pageSql(shape, filter)}) p) AS papers
    FROM (${parentsSql}) parent`;
}

/**
 * A paper of a page: its parent's id and, when the page carried them, its
 * edition's columns (see IssueMode: a slice unless `full`). Of its own
 * columns, those of the page's PaperColumns. These rows stay with their page
 * (they are not the paper loader's).
 */
export type PaperInPage = PaperView & { parentId: number; edition?: IssueView };

/** A paper with its place in the archive (what the walk's order and cursors go by). */
type PlacedPaper = Pick<PaperRow, 'weekStart' | 'issueId' | 'sectionNumber' | 'position'>;

/** Whether papers read with these columns carry their place (see PlacedPaper). */
export function carriesPlace(columns: PaperColumns): boolean {
  return columns.place && columns.issueId;
}

/** Papers in a walk's order (see archiveOrderSql): negative when `a` comes first. */
export function walkComparator(walk: ArchiveWalk): (a: PlacedPaper, b: PlacedPaper) => number {
  const outer = walk.outerDesc ? -1 : 1;
  const inner = walk.innerDesc ? -1 : 1;
  return (a, b) =>
    (a.weekStart < b.weekStart ? -outer : a.weekStart > b.weekStart ? outer : 0) ||
    outer * (a.issueId - b.issueId) ||
    inner * (a.sectionNumber - b.sectionNumber) ||
    inner * (a.position - b.position);
}

/**
 * Puts papers[start…] in order, in place, when they are not (they are as
 * PostgreSQL aggregates a sorted subquery: checking costs one comparison each).
 */
export function restoreOrder<T extends PlacedPaper>(
  papers: T[],
  start: number,
  before: (a: PlacedPaper, b: PlacedPaper) => number,
): void {
  for (let k = start + 1; k < papers.length; k++) {
    if (before(papers[k - 1]!, papers[k]!) > 0) {
      const sorted = papers.slice(start).sort(before);
      papers.splice(start, sorted.length, ...sorted);
      return;
    }
  }
}

/**
 * The papers of a page statement's rows, each with `parentId` and, when the
 * shape carried editions, `edition` (one object per edition, shared by its
 * papers); with `full` rows the editions are also returned, complete, for
 * the issue loader.
 */
function readPages(rows: PageStatementRow[], shape: PageShape): { papers: PaperInPage[]; issues: IssueRow[] } {
  const papers: PaperInPage[] = [];
  const editions = new Map<number, IssueView>();
  const decode = PAPER.arrayDecoder(shape.columns);
  const carried = issueColumns(shape.issues);
  const editionAt = PAPER.itemCount(shape.columns);
  // Without their place (no cursor, number or edition asked for) the papers cannot be checked: they stay in the
  // order PostgreSQL's aggregate read them from the sorted subquery (see pagesStatement).
  const before = carriesPlace(shape.columns) ? walkComparator(shape.walk) : null;
  for (const r of rows) {
    const start = papers.length;
    for (const a of r.papers ?? []) {
      const paper = decode(a) as PaperInPage;
      paper.parentId = r.parentId;
      if (carried.length > 0) {
        // (pageShape carries the edition's id with the edition)
        const issueId = paper.issueId!;
        let edition = editions.get(issueId);
        if (!edition) {
          edition = issueFromValues(issueId, carried, a.slice(editionAt));
          editions.set(issueId, edition);
        }
        paper.edition = edition;
      }
      papers.push(paper);
    }
    if (before) restoreOrder(papers as PlacedPaper[], start, before);
  }
  const whole = shape.issues === 'full' ? [...editions.values()].filter((v) => ISSUE.isComplete(v)) : [];
  return { papers, issues: whole };
}

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
  const shape = pageShape(parent, filter, window, vis, options.issues ?? 'none', options.columns ?? ALL_PAPER_COLUMNS);
  const rows = await preparedRows<PageStatementRow>(
    db,
    shapeName('paper_pages_v6', shape),
    () =>
      pagesStatement(
        shape,
        filter,
        sql`SELECT u.id, u.ord FROM unnest(${sql.placeholder('parentIds')}::int[]) WITH ORDINALITY AS u(id, ord)`,
        sql`NULL::json`,
      ),
    { ...pageValues(filter, window), parentIds: [...parentIds] },
  );
  return readPages(rows, shape);
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
  const shape = pageShape(
    'category',
    filter,
    window,
    vis,
    options.issues ?? 'none',
    options.columns ?? ALL_PAPER_COLUMNS,
  );
  const rows = await preparedRows<PageStatementRow & { ord: number | string }>(
    db,
    shapeName('category_listing_v4', shape),
    () =>
      pagesStatement(
        shape,
        filter,
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
    return {
      id: a[0],
      slug: a[1],
      name: a[2],
      description: a[3],
      createdAt: new Date(a[4]),
      updatedAt: new Date(a[5]),
    };
  });
  return { categories, ...readPages(rows, shape) };
}

/** Number of papers matching the filter, overall. */
export async function countPapers(db: Db, filter: PaperFilterArgs | undefined, vis: Visibility): Promise<number> {
  const rows = await selectRows<{ n: number | string }>(
    db,
    sql`SELECT count(*)::int AS n FROM papers p WHERE true ${paperFilterSql(filter)} ${visiblePapers(vis)}`,
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
        ${paperFilterSql(filter)} ${visiblePapers(vis)}
        GROUP BY 1`,
  );
  for (const r of rows) counts.set(Number(r.parentId), Number(r.n));
  return counts;
}
