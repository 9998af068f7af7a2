import { type SQL, and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { type IssueRow, issues } from '../schema.js';
import type { Visibility } from './papers.js';
import { type PageWindow, prepared } from './util.js';

/** Keyset of an edition: week start, then id. */
export type IssueKey = [weekStart: string, id: number];

export interface IssueFilterArgs {
  /** Editions whose week starts on or after this date. */
  weekFrom?: string | null;
  /** Editions whose week starts on or before this date. */
  weekTo?: string | null;
  /** Only editions in this state (editors only; readers always get published). */
  status?: 'draft' | 'published' | null;
}

/** The columns of an edition as one JSON array (alias `i`), for editions fetched along with papers (see `issueFromArray`). */
export const ISSUE_ARRAY = sql.raw(`json_build_array(i.id, i.slug, i.title, i.subtitle, i.week_start::text, i.week_end::text,
  i.intro, i.outro, i.asides, i.status, date_part('epoch', i.published_at) * 1000, i.version,
  date_part('epoch', i.created_at) * 1000, date_part('epoch', i.updated_at) * 1000)`);

/** One element of an ISSUE_ARRAY list. */
export type IssueArray = [
  id: number,
  slug: string,
  title: string,
  subtitle: string,
  weekStart: string,
  weekEnd: string,
  intro: string,
  outro: string,
  asides: IssueRow['asides'],
  status: IssueRow['status'],
  publishedAtMs: number | null,
  version: number,
  createdAtMs: number,
  updatedAtMs: number,
];

/** The same IssueRow as Drizzle's own mapping gives. */
export function issueFromArray(a: IssueArray): IssueRow {
  return {
    id: a[0],
    slug: a[1],
    title: a[2],
    subtitle: a[3],
    weekStart: a[4],
    weekEnd: a[5],
    intro: a[6],
    outro: a[7],
    asides: a[8],
    status: a[9],
    publishedAt: a[10] == null ? null : new Date(a[10]),
    version: a[11],
    createdAt: new Date(a[12]),
    updatedAt: new Date(a[13]),
  };
}

function visible(vis: Visibility): SQL | undefined {
  return vis.drafts ? undefined : eq(issues.status, 'published');
}

function filterConditions(filter: IssueFilterArgs | undefined): Array<SQL | undefined> {
  return [
    filter?.weekFrom != null ? gte(issues.weekStart, filter.weekFrom) : undefined,
    filter?.weekTo != null ? lte(issues.weekStart, filter.weekTo) : undefined,
    filter?.status != null ? eq(issues.status, filter.status) : undefined,
  ];
}

export function issuesByIds(db: Db, ids: readonly number[], vis: Visibility): Promise<IssueRow[]> {
  const name = vis.drafts ? 'issues_by_ids_all_v1' : 'issues_by_ids_published_v1';
  return prepared(db, name, (as) =>
    db
      .select()
      .from(issues)
      .where(and(sql`${issues.id} = ANY(${sql.placeholder('ids')}::int[])`, visible(vis)))
      .prepare(as ?? ''),
  ).execute({ ids: [...ids] });
}

export function issuesBySlugs(db: Db, slugs: readonly string[], vis: Visibility): Promise<IssueRow[]> {
  const name = vis.drafts ? 'issues_by_slugs_all_v1' : 'issues_by_slugs_published_v1';
  return prepared(db, name, (as) =>
    db
      .select()
      .from(issues)
      .where(and(sql`${issues.slug} = ANY(${sql.placeholder('slugs')}::text[])`, visible(vis)))
      .prepare(as ?? ''),
  ).execute({ slugs: [...slugs] });
}

/** The edition with the newest week. */
export async function latestIssue(db: Db, vis: Visibility): Promise<IssueRow | null> {
  const rows = await db
    .select()
    .from(issues)
    .where(visible(vis))
    .orderBy(desc(issues.weekStart), desc(issues.id))
    .limit(1);
  return rows[0] ?? null;
}

/**
 * One keyset page of editions ordered by week: a prepared statement per shape
 * of the request (direction, cursor or not, which filters, drafts or not).
 */
export function pageIssues(
  db: Db,
  filter: IssueFilterArgs | undefined,
  window: PageWindow<IssueKey>,
  vis: Visibility,
): Promise<IssueRow[]> {
  const walkDesc = (window.order === 'DESC') !== window.backward;
  const has = { cursor: window.cursor != null, from: filter?.weekFrom != null, to: filter?.weekTo != null, status: filter?.status != null };
  // Common page sizes go into the text: a bound LIMIT is re-planned at every execution.
  const literalLimit = [2, 6, 11, 21, 51, 101].includes(window.limit) ? window.limit : null;
  const name = `issues_page_v2_${walkDesc ? 'desc' : 'asc'}_${vis.drafts ? 'all' : 'pub'}_l${literalLimit ?? 'n'}${Object.entries(has)
    .filter(([, on]) => on)
    .map(([k]) => `_${k}`)
    .join('')}`;
  const statement = prepared(db, name, (as) => {
    const week = sql.placeholder('week');
    const id = sql.placeholder('id');
    const keyset = has.cursor
      ? walkDesc
        ? sql`(${issues.weekStart}, ${issues.id}) < (${week}::date, ${id}::int)`
        : sql`(${issues.weekStart}, ${issues.id}) > (${week}::date, ${id}::int)`
      : undefined;
    const dir = walkDesc ? desc : asc;
    return db
      .select()
      .from(issues)
      .where(
        and(
          visible(vis),
          keyset,
          has.from ? sql`${issues.weekStart} >= ${sql.placeholder('weekFrom')}::date` : undefined,
          has.to ? sql`${issues.weekStart} <= ${sql.placeholder('weekTo')}::date` : undefined,
          has.status ? sql`${issues.status} = ${sql.placeholder('status')}::issue_status` : undefined,
        ),
      )
      .orderBy(dir(issues.weekStart), dir(issues.id))
      // (Drizzle binds a number given to .limit(); raw SQL stays in the text)
      .limit(literalLimit != null ? (sql.raw(String(literalLimit)) as unknown as number) : sql.placeholder('limit'))
      .prepare(as ?? '');
  });
  return statement.execute({
    week: window.cursor?.[0],
    id: window.cursor?.[1],
    weekFrom: filter?.weekFrom,
    weekTo: filter?.weekTo,
    status: filter?.status,
    limit: window.limit,
  });
}

export async function countIssues(db: Db, filter: IssueFilterArgs | undefined, vis: Visibility): Promise<number> {
  const rows = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(issues)
    .where(and(visible(vis), ...filterConditions(filter)));
  return Number(rows[0]?.n ?? 0);
}
