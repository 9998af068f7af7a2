import type { SQL } from 'drizzle-orm';
import { and, asc, desc, eq, gte, lte, sql } from '../orm.js';
import type { Db } from '../client.js';
import { type IssueRow, issues } from '../schema.js';
import { type Visibility, literalLimit as literalLimitOf, visibleIssues } from './fragments.js';
import { type PageWindow, flagsKey, prepared } from './util.js';

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
      .where(and(sql`${issues.id} = ANY(${sql.placeholder('ids')}::int[])`, visibleIssues(vis)))
      .prepare(as ?? ''),
  ).execute({ ids: [...ids] });
}

export function issuesBySlugs(db: Db, slugs: readonly string[], vis: Visibility): Promise<IssueRow[]> {
  const name = vis.drafts ? 'issues_by_slugs_all_v1' : 'issues_by_slugs_published_v1';
  return prepared(db, name, (as) =>
    db
      .select()
      .from(issues)
      .where(and(sql`${issues.slug} = ANY(${sql.placeholder('slugs')}::text[])`, visibleIssues(vis)))
      .prepare(as ?? ''),
  ).execute({ slugs: [...slugs] });
}

/** The edition with the newest week. */
export async function latestIssue(db: Db, vis: Visibility): Promise<IssueRow | null> {
  const rows = await db
    .select()
    .from(issues)
    .where(visibleIssues(vis))
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
  const has = {
    cursor: window.cursor != null,
    from: filter?.weekFrom != null,
    to: filter?.weekTo != null,
    status: filter?.status != null,
  };
  const literalLimit = literalLimitOf(window.limit);
  const name = `issues_page_v2_${walkDesc ? 'desc' : 'asc'}_${vis.drafts ? 'all' : 'pub'}_l${literalLimit ?? 'n'}${flagsKey(has)}`;
  const statement = prepared(db, name, (as) => {
    const week = sql.placeholder('week');
    const id = sql.placeholder('id');
    const keyset = has.cursor
      ? walkDesc
        ? sql`(${issues.weekStart}, ${issues.id}) < (${week}::date, ${id}::int)`
        : sql`(${issues.weekStart}, ${issues.id}) > (${week}::date, ${id}::int)`
      : undefined;
    const dir = walkDesc ? desc : asc;
    return (
      db
        .select()
        .from(issues)
        .where(
          and(
            visibleIssues(vis),
            keyset,
            has.from ? sql`${issues.weekStart} >= ${sql.placeholder('weekFrom')}::date` : undefined,
            has.to ? sql`${issues.weekStart} <= ${sql.placeholder('weekTo')}::date` : undefined,
            has.status ? sql`${issues.status} = ${sql.placeholder('status')}::issue_status` : undefined,
          ),
        )
        .orderBy(dir(issues.weekStart), dir(issues.id))
        // (Drizzle binds a number given to .limit(); raw SQL stays in the text)
        .limit(literalLimit != null ? (sql.raw(String(literalLimit)) as unknown as number) : sql.placeholder('limit'))
        .prepare(as ?? '')
    );
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
    .where(and(visibleIssues(vis), ...filterConditions(filter)));
  return Number(rows[0]?.n ?? 0);
}
