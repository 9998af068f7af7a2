import { type SQL, and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { type IssueRow, issues } from '../schema.js';
import type { Visibility } from './papers.js';
import type { PageWindow } from './util.js';

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
  return db
    .select()
    .from(issues)
    .where(and(inArray(issues.id, [...ids]), visible(vis)));
}

export function issuesBySlugs(db: Db, slugs: readonly string[], vis: Visibility): Promise<IssueRow[]> {
  return db
    .select()
    .from(issues)
    .where(and(inArray(issues.slug, [...slugs]), visible(vis)));
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

/** One keyset page of editions ordered by week. */
export function pageIssues(
  db: Db,
  filter: IssueFilterArgs | undefined,
  window: PageWindow<IssueKey>,
  vis: Visibility,
): Promise<IssueRow[]> {
  const walkDesc = (window.order === 'DESC') !== window.backward;
  let keyset: SQL | undefined;
  if (window.cursor) {
    const [week, id] = window.cursor;
    keyset = walkDesc
      ? sql`(${issues.weekStart}, ${issues.id}) < (${week}::date, ${id}::int)`
      : sql`(${issues.weekStart}, ${issues.id}) > (${week}::date, ${id}::int)`;
  }
  const dir = walkDesc ? desc : asc;
  return db
    .select()
    .from(issues)
    .where(and(visible(vis), keyset, ...filterConditions(filter)))
    .orderBy(dir(issues.weekStart), dir(issues.id))
    .limit(window.limit);
}

export async function countIssues(db: Db, filter: IssueFilterArgs | undefined, vis: Visibility): Promise<number> {
  const rows = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(issues)
    .where(and(visible(vis), ...filterConditions(filter)));
  return Number(rows[0]?.n ?? 0);
}
