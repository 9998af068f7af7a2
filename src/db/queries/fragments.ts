import type { SQL } from 'drizzle-orm';
import { eq, sql } from '../orm.js';
import { issues } from '../schema.js';

/*
 * The SQL pieces that several statements share, written once: draft
 * visibility, the paper filter, the archive order and its keyset, and page
 * limits. Each takes its values either bound in place (statements built per
 * request) or as named placeholders (prepared statements, whose values come
 * at execution): see `Values`.
 */

/** Whether a reader sees drafts: editors do, anonymous readers see published editions only. */
export interface Visibility {
  drafts: boolean;
}

export const PUBLISHED_ONLY: Visibility = { drafts: false };
export const WITH_DRAFTS: Visibility = { drafts: true };

/** Published editions only, on `issues` itself (Drizzle condition; undefined: no condition). */
export function visibleIssues(vis: Visibility): SQL | undefined {
  return vis.drafts ? undefined : eq(issues.status, 'published');
}

/** The same on an edition joined as `i`. */
export function visibleJoinedIssue(vis: Visibility): SQL {
  return vis.drafts ? sql`` : sql`AND i.status = 'published'`;
}

/**
 * Papers (`p`) of published editions only, as a semi-join: right for
 * statements that visit every match (counts, lookups by key), where a hash
 * join on one scan of `issues` is cheapest.
 */
export function visiblePapers(vis: Visibility): SQL {
  return vis.drafts
    ? sql``
    : sql`AND EXISTS (SELECT 1 FROM issues vi WHERE vi.id = p.issue_id AND vi.status = 'published')`;
}

/**
 * The same for statements that stop after a bounded number of rows (pages,
 * candidates), where a join would scan all of `issues` first: the ids of the
 * drafts (few or none, from the partial index issues_drafts_idx) are read
 * once per statement, in its snapshot, and each row is checked against that
 * array. The planner estimates `<> ALL (…)` as passing nearly every row, so
 * it still walks the archive order (`= 'published'` per row would be
 * estimated at 0.5 %, and it would then sort all matches). It replaced a
 * primary-key lookup of each row's edition, a large share of a search's
 * candidates (BENCHMARKS.md, section search-sql).
 */
export function visiblePapersByRow(vis: Visibility): SQL {
  return vis.drafts ? sql`` : sql`AND p.issue_id <> ALL (ARRAY(SELECT vi.id FROM issues vi WHERE vi.status = 'draft'))`;
}

/** How a fragment takes a value named `name` (the placeholder's name when prepared). */
export interface Values {
  one(name: string, value: unknown, type: string): SQL;
  /** `IN (…)` or `= ANY(…)`: membership in a list. */
  anyOf(name: string, values: readonly unknown[], type: string): SQL;
}

/** Values bound in place. */
export const BOUND: Values = {
  one: (_name, value, type) => sql`${value}::${sql.raw(type)}`,
  anyOf: (_name, values) =>
    sql`IN (${sql.join(
      values.map((v) => sql`${v}`),
      sql`, `,
    )})`,
};

/** Named placeholders (`sql.placeholder(name)`), for prepared statements. */
export const PLACEHOLDERS: Values = {
  one: (name, _value, type) => sql`${sql.placeholder(name)}::${sql.raw(type)}`,
  anyOf: (name, _values, type) => sql`= ANY(${sql.placeholder(name)}::${sql.raw(type)}[])`,
};

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

/** Which conditions a PaperFilter sets (what a prepared statement's text depends on). */
export function paperFilterFlags(filter: PaperFilterArgs | undefined) {
  return {
    categories: filter?.categorySlugs != null && filter.categorySlugs.length > 0,
    issue: filter?.issueSlug != null,
    from: filter?.weekFrom != null,
    to: filter?.weekTo != null,
  };
}

/** The `AND …` conditions of a PaperFilter on papers `p`; placeholders: categorySlugs, issueSlug, weekFrom, weekTo. */
export function paperFilterSql(filter: PaperFilterArgs | undefined, values: Values = BOUND): SQL {
  const has = paperFilterFlags(filter);
  const parts: SQL[] = [];
  if (has.categories) {
    const slugs = values.anyOf('categorySlugs', filter!.categorySlugs!, 'text');
    parts.push(sql`AND p.category_id IN (SELECT fc.id FROM categories fc WHERE fc.slug ${slugs})`);
  }
  if (has.issue) {
    const slug = values.one('issueSlug', filter!.issueSlug, 'text');
    parts.push(sql`AND p.issue_id = (SELECT fi.id FROM issues fi WHERE fi.slug = ${slug})`);
  }
  if (has.from) parts.push(sql`AND p.week_start >= ${values.one('weekFrom', filter!.weekFrom, 'date')}`);
  if (has.to) parts.push(sql`AND p.week_start <= ${values.one('weekTo', filter!.weekTo, 'date')}`);
  return sql.join(parts, sql` `);
}

/** The placeholder values of a PaperFilter (see paperFilterSql). */
export function paperFilterValues(filter: PaperFilterArgs | undefined): Record<string, unknown> {
  return {
    categorySlugs: filter?.categorySlugs && filter.categorySlugs.length > 0 ? [...filter.categorySlugs] : undefined,
    issueSlug: filter?.issueSlug ?? undefined,
    weekFrom: filter?.weekFrom ?? undefined,
    weekTo: filter?.weekTo ?? undefined,
  };
}

/** Keyset of a paper in archive order: edition week, edition id, section number, position. */
export type PaperKey = [weekStart: string, issueId: number, sectionNumber: number, position: number];

/**
 * Which way a walk of the archive order goes: editions (week, then id) and,
 * inside an edition, numbers (section, position). DESC (the default order) is
 * newest edition first and, inside an edition, by number ascending; ASC is
 * oldest edition first, still by number ascending inside it; walking
 * backwards (`last`/`before`) turns both.
 */
export interface ArchiveWalk {
  outerDesc: boolean;
  innerDesc: boolean;
}

export function archiveWalk(window: { order: 'ASC' | 'DESC'; backward: boolean }): ArchiveWalk {
  return { outerDesc: (window.order === 'DESC') !== window.backward, innerDesc: window.backward };
}

/** Newest edition first, by number inside an edition (Query.papers, feeds, search NEWEST). */
export const NEWEST_FIRST: ArchiveWalk = { outerDesc: true, innerDesc: false };

/** ORDER BY of a walk of papers `p` (served by papers_order_idx and papers_category_order_idx). */
export function archiveOrderSql(walk: ArchiveWalk): SQL {
  const o = walk.outerDesc ? 'DESC' : 'ASC';
  const i = walk.innerDesc ? 'DESC' : 'ASC';
  return sql.raw(`p.week_start ${o}, p.issue_id ${o}, p.section_number ${i}, p.position ${i}`);
}

/**
 * Keyset condition: after the paper with key `cursor`, in walking order.
 * Placeholders: week, issueId, sectionNumber, position.
 */
export function archiveKeysetSql(walk: ArchiveWalk, cursor: PaperKey | null, values: Values = BOUND): SQL {
  const [w, id, n, pos] = cursor ?? [];
  const week = values.one('week', w, 'date');
  const issueId = values.one('issueId', id, 'int');
  const outerOp = sql.raw(walk.outerDesc ? '<' : '>');
  const innerOp = sql.raw(walk.innerDesc ? '<' : '>');
  const bound = sql.raw(walk.outerDesc ? '<=' : '>=');
  // The first, redundant bound on week_start lets the index start at the cursor.
  return sql`AND p.week_start ${bound} ${week} AND (
    p.week_start ${outerOp} ${week}
    OR (p.week_start = ${week} AND (
      p.issue_id ${outerOp} ${issueId}
      OR (p.issue_id = ${issueId} AND (p.section_number, p.position) ${innerOp}
        (${values.one('sectionNumber', n, 'int')}, ${values.one('position', pos, 'int')})))))`;
}

/** The placeholder values of a keyset (see archiveKeysetSql). */
export function archiveKeysetValues(cursor: PaperKey | null): Record<string, unknown> {
  return { week: cursor?.[0], issueId: cursor?.[1], sectionNumber: cursor?.[2], position: cursor?.[3] };
}

/**
 * The usual page sizes, with and without the row a page peeks past its end
 * (windowFromArgs), written into the statement text rather than bound:
 * PostgreSQL cannot estimate `LIMIT $n`, so it would re-plan a statement
 * with a bound limit at every execution; with the number in the text it
 * plans once per connection. Other sizes are bound.
 */
const LITERAL_LIMITS = new Set([1, 2, 5, 6, 10, 11, 20, 21, 50, 51, 100, 101]);

/** The limit to write into a prepared statement's text, or null to bind it. */
export function literalLimit(limit: number): number | null {
  return LITERAL_LIMITS.has(limit) ? limit : null;
}

/** A prepared statement's LIMIT value: the literal, or the placeholder `limit`. */
export function limitSql(literal: number | null): SQL {
  return literal != null ? sql.raw(String(literal)) : sql`${sql.placeholder('limit')}::int`;
}
