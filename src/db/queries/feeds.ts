import { and, asc, desc, eq, getTableColumns, inArray } from '../orm.js';
import type { Db } from '../client.js';
import {
  type CategoryRow,
  type PaperWithSummary,
  categories,
  categoryAliases,
  issues,
  papers,
  sections,
} from '../schema.js';
import { PUBLISHED_ONLY, visibleIssues } from './fragments.js';
import type { IssueRows } from './issue-content.js';

/**
 * Reads behind the feeds (/feeds/…) and the single-paper Markdown route.
 * Published editions only, always: these are anonymous, cacheable resources.
 */
const published = visibleIssues(PUBLISHED_ONLY);

const { searchVector: _omit, titleFolded: _folded, ...paperColumns } = getTableColumns(papers);

/**
 * The latest `limit` published editions (by week, newest first), each with
 * its sections, categories and papers, in three statements whatever `limit`.
 */
export async function latestPublishedIssues(db: Db, args: { limit: number }): Promise<IssueRows[]> {
  const issueRows = await db
    .select()
    .from(issues)
    .where(published)
    .orderBy(desc(issues.weekStart), desc(issues.id))
    .limit(args.limit);
  if (issueRows.length === 0) return [];
  const ids = issueRows.map((i) => i.id);
  const sectionRows = await db
    .select({ section: sections, category: categories })
    .from(sections)
    .innerJoin(categories, eq(categories.id, sections.categoryId))
    .where(inArray(sections.issueId, ids))
    .orderBy(asc(sections.issueId), asc(sections.number));
  const paperRows = await db
    .select(paperColumns)
    .from(papers)
    .where(inArray(papers.issueId, ids))
    .orderBy(asc(papers.issueId), asc(papers.sectionNumber), asc(papers.position));
  return issueRows.map((issue) => ({
    issue,
    sections: sectionRows
      .filter((r) => r.section.issueId === issue.id)
      .map((r) => ({ ...r.section, category: r.category })),
    papers: paperRows.filter((p) => p.issueId === issue.id),
  }));
}

export function categoryBySlug(db: Db, slug: string): Promise<CategoryRow | null> {
  return db
    .select()
    .from(categories)
    .where(eq(categories.slug, slug))
    .then((rows) => rows[0] ?? null);
}

/** The current slug of a category that used to be called `oldSlug` (merged categories), or null. */
export function categorySlugByAlias(db: Db, oldSlug: string): Promise<string | null> {
  return db
    .select({ slug: categories.slug })
    .from(categoryAliases)
    .innerJoin(categories, eq(categories.id, categoryAliases.categoryId))
    .where(eq(categoryAliases.slug, oldSlug))
    .then((rows) => rows[0]?.slug ?? null);
}

/** A paper with what a reader needs around it: its edition and its category. */
export interface PaperEntryRow {
  paper: PaperWithSummary;
  issue: {
    id: number;
    slug: string;
    title: string;
    weekStart: string;
    weekEnd: string;
    publishedAt: Date | null;
    updatedAt: Date;
  };
  category: CategoryRow;
}

const entryColumns = {
  paper: paperColumns,
  issue: {
    id: issues.id,
    slug: issues.slug,
    title: issues.title,
    weekStart: issues.weekStart,
    weekEnd: issues.weekEnd,
    publishedAt: issues.publishedAt,
    updatedAt: issues.updatedAt,
  },
  category: categories,
};

/**
 * The latest `limit` papers of a category from published editions: newest
 * edition first and, inside an edition, by number. One statement (served by
 * papers_category_order_idx).
 */
export function latestPublishedPapersOfCategory(
  db: Db,
  args: { categoryId: number; limit: number },
): Promise<PaperEntryRow[]> {
  return db
    .select(entryColumns)
    .from(papers)
    .innerJoin(issues, eq(issues.id, papers.issueId))
    .innerJoin(categories, eq(categories.id, papers.categoryId))
    .where(and(eq(papers.categoryId, args.categoryId), published))
    .orderBy(desc(papers.weekStart), desc(papers.issueId), asc(papers.sectionNumber), asc(papers.position))
    .limit(args.limit);
}

/**
 * The stored number of the (first) paper of a published edition whose
 * imported text numbered it `numberAsWritten` ("2.3" stored as 2.2), or null.
 */
export function publishedPaperNumberAsWritten(
  db: Db,
  args: { issueSlug: string; numberAsWritten: string },
): Promise<{ sectionNumber: number; position: number } | null> {
  return db
    .select({ sectionNumber: papers.sectionNumber, position: papers.position })
    .from(papers)
    .innerJoin(issues, eq(issues.id, papers.issueId))
    .where(and(eq(issues.slug, args.issueSlug), published, eq(papers.numberAsWritten, args.numberAsWritten)))
    .orderBy(asc(papers.sectionNumber), asc(papers.position))
    .limit(1)
    .then((rows) => rows[0] ?? null);
}

/** Paper `sectionNumber.position` of the published edition `issueSlug`, or null. One statement. */
export function publishedPaperByNumber(
  db: Db,
  args: { issueSlug: string; sectionNumber: number; position: number },
): Promise<PaperEntryRow | null> {
  return db
    .select(entryColumns)
    .from(papers)
    .innerJoin(issues, eq(issues.id, papers.issueId))
    .innerJoin(categories, eq(categories.id, papers.categoryId))
    .where(
      and(
        eq(issues.slug, args.issueSlug),
        published,
        eq(papers.sectionNumber, args.sectionNumber),
        eq(papers.position, args.position),
      ),
    )
    .then((rows) => rows[0] ?? null);
}
