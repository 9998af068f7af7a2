import { and, asc, eq, inArray, sql } from '../orm.js';
import type { Db } from '../client.js';
import {
  type CategoryRow,
  type IssueRow,
  type NewIssue,
  type SectionRow,
  categories,
  categoryAliases,
  issues,
  papers,
  sections,
} from '../schema.js';
import { selectRows } from './util.js';

// Writes of the editorial API. Every function expects to run inside the
// mutation's transaction (pass the transaction as `db`).

export async function issueById(db: Db, id: number, lock = false): Promise<IssueRow | null> {
  const q = db.select().from(issues).where(eq(issues.id, id));
  const rows = lock ? await q.for('update') : await q;
  return rows[0] ?? null;
}

export async function insertIssue(db: Db, values: NewIssue): Promise<IssueRow> {
  const [row] = await db.insert(issues).values(values).returning();
  return row!;
}

/** Updates when `version` still matches; null when it does not (or the row is gone). */
export async function updateIssueIfVersion(
  db: Db,
  id: number,
  version: number,
  fields: Partial<NewIssue>,
): Promise<IssueRow | null> {
  const rows = await db
    .update(issues)
    .set({ ...fields, version: sql`${issues.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(issues.id, id), eq(issues.version, version)))
    .returning();
  const row = rows[0] ?? null;
  if (row && fields.weekStart !== undefined) {
    await db.update(papers).set({ weekStart: row.weekStart }).where(eq(papers.issueId, id));
  }
  return row;
}

/** Bumps version and updated_at (any change inside the edition counts as a change of it). */
export async function touchIssue(db: Db, id: number): Promise<IssueRow | null> {
  const rows = await db
    .update(issues)
    .set({ version: sql`${issues.version} + 1`, updatedAt: sql`now()` })
    .where(eq(issues.id, id))
    .returning();
  return rows[0] ?? null;
}

export async function deleteIssueById(db: Db, id: number): Promise<boolean> {
  const rows = await db.delete(issues).where(eq(issues.id, id)).returning({ id: issues.id });
  return rows.length > 0;
}

/** Publishes a draft; returns the row and whether it changed (publishing twice keeps published_at). */
export async function publishIssueById(db: Db, id: number): Promise<{ row: IssueRow; changed: boolean } | null> {
  const rows = await db
    .update(issues)
    .set({ status: 'published', publishedAt: sql`now()`, version: sql`${issues.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(issues.id, id), eq(issues.status, 'draft')))
    .returning();
  if (rows[0]) return { row: rows[0], changed: true };
  const current = await issueById(db, id);
  return current ? { row: current, changed: false } : null;
}

export async function unpublishIssueById(db: Db, id: number): Promise<{ row: IssueRow; changed: boolean } | null> {
  const rows = await db
    .update(issues)
    .set({ status: 'draft', publishedAt: null, version: sql`${issues.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(issues.id, id), eq(issues.status, 'published')))
    .returning();
  if (rows[0]) return { row: rows[0], changed: true };
  const current = await issueById(db, id);
  return current ? { row: current, changed: false } : null;
}

export interface PaperWrite {
  title: string;
  summary: string;
  url: string | null;
  arxivId: string | null;
}

export interface PaperPlace {
  id: number;
  issueId: number;
  sectionId: number;
  categoryId: number;
  sectionNumber: number;
  position: number;
  version: number;
}

export async function paperPlaceById(db: Db, id: number, lock = false): Promise<PaperPlace | null> {
  const q = db
    .select({
      id: papers.id,
      issueId: papers.issueId,
      sectionId: papers.sectionId,
      categoryId: papers.categoryId,
      sectionNumber: papers.sectionNumber,
      position: papers.position,
      version: papers.version,
    })
    .from(papers)
    .where(eq(papers.id, id));
  const rows = lock ? await q.for('update') : await q;
  return rows[0] ?? null;
}

/** Sections of an edition with their papers' ids in order: the edition's current layout. */
export async function issueLayout(db: Db, issueId: number): Promise<LayoutSection[]> {
  const sectionRows = await db
    .select()
    .from(sections)
    .where(eq(sections.issueId, issueId))
    .orderBy(asc(sections.number));
  const paperRows = await db
    .select({ id: papers.id, sectionId: papers.sectionId })
    .from(papers)
    .where(eq(papers.issueId, issueId))
    .orderBy(asc(papers.sectionNumber), asc(papers.position));
  return sectionRows.map((s) => ({
    sectionId: s.id,
    categoryId: s.categoryId,
    paperIds: paperRows.filter((p) => p.sectionId === s.id).map((p) => p.id),
  }));
}

export interface LayoutSection {
  /** null: a section to create. */
  sectionId: number | null;
  categoryId: number;
  paperIds: number[];
}

/**
 * Writes an edition's layout: sections numbered 1… in the given order, each
 * paper at its position; sections left without papers, or not listed, are
 * deleted. Unique numbers are checked at commit, so numbers may be swapped.
 */
export async function applyLayout(db: Db, issueId: number, layout: LayoutSection[]): Promise<void> {
  await db.execute(sql`SET CONSTRAINTS sections_issue_number_key, papers_issue_number_key DEFERRED`);
  const kept = layout.filter((s) => s.paperIds.length > 0);
  const keptIds = kept.map((s) => s.sectionId).filter((id): id is number => id !== null);
  // Remove sections that are gone (their papers were moved out first, below, or are being deleted).
  const existing = await db.select({ id: sections.id }).from(sections).where(eq(sections.issueId, issueId));
  const toDelete = existing.map((r) => r.id).filter((id) => !keptIds.includes(id));
  const [week] = await db.select({ weekStart: issues.weekStart }).from(issues).where(eq(issues.id, issueId));
  const placed: Array<{ section: SectionRow; paperIds: number[] }> = [];
  for (const [i, s] of kept.entries()) {
    if (s.sectionId === null) {
      const [created] = await db
        .insert(sections)
        .values({ issueId, categoryId: s.categoryId, number: 900 + i })
        .returning();
      placed.push({ section: created!, paperIds: s.paperIds });
    } else {
      placed.push({ section: { id: s.sectionId, issueId, categoryId: s.categoryId, number: 0 }, paperIds: s.paperIds });
    }
  }
  if (placed.length > 0) {
    const sectionValues = sql.join(
      placed.map((p, i) => sql`(${p.section.id}::int, ${i + 1}::int, ${p.section.categoryId}::int)`),
      sql`, `,
    );
    await db.execute(sql`UPDATE sections s SET number = v.number, category_id = v.category_id
      FROM (VALUES ${sectionValues}) AS v(id, number, category_id) WHERE s.id = v.id`);
    const paperValues = placed.flatMap((p, i) =>
      p.paperIds.map(
        (paperId, j) =>
          sql`(${paperId}::int, ${p.section.id}::int, ${p.section.categoryId}::int, ${i + 1}::int, ${j + 1}::int)`,
      ),
    );
    if (paperValues.length > 0) {
      await db.execute(sql`UPDATE papers p SET section_id = v.section_id, category_id = v.category_id,
          section_number = v.section_number, position = v.position, week_start = ${week!.weekStart}::date
        FROM (VALUES ${sql.join(paperValues, sql`, `)}) AS v(id, section_id, category_id, section_number, position)
        WHERE p.id = v.id AND p.issue_id = ${issueId}::int`);
    }
  }
  if (toDelete.length > 0) await db.delete(sections).where(inArray(sections.id, toDelete));
  await db.execute(sql`SET CONSTRAINTS sections_issue_number_key, papers_issue_number_key IMMEDIATE`);
}

export async function insertSection(db: Db, issueId: number, categoryId: number, number: number): Promise<number> {
  const [row] = await db.insert(sections).values({ issueId, categoryId, number }).returning({ id: sections.id });
  return row!.id;
}

export async function insertPaperRow(
  db: Db,
  values: PaperWrite & {
    issueId: number;
    sectionId: number;
    categoryId: number;
    weekStart: string;
    sectionNumber: number;
    position: number;
  },
): Promise<number> {
  const [row] = await db.insert(papers).values(values).returning({ id: papers.id });
  return row!.id;
}

export async function updatePaperIfVersion(
  db: Db,
  id: number,
  version: number,
  fields: Partial<PaperWrite>,
): Promise<boolean> {
  const rows = await db
    .update(papers)
    .set({ ...fields, version: sql`${papers.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(papers.id, id), eq(papers.version, version)))
    .returning({ id: papers.id });
  return rows.length > 0;
}

export async function deletePaperById(db: Db, id: number): Promise<void> {
  await db.delete(papers).where(eq(papers.id, id));
}

// ---- categories ----

export async function categoryById(db: Db, id: number, lock = false): Promise<CategoryRow | null> {
  const q = db.select().from(categories).where(eq(categories.id, id));
  const rows = lock ? await q.for('update') : await q;
  return rows[0] ?? null;
}

export async function categoryIdBySlugOrAlias(db: Db, slug: string): Promise<number | null> {
  const rows = await selectRows<{ id: number }>(
    db,
    sql`SELECT id FROM categories WHERE slug = ${slug}
        UNION ALL SELECT category_id AS id FROM category_aliases WHERE slug = ${slug} LIMIT 1`,
  );
  return rows[0]?.id ?? null;
}

export async function slugTaken(db: Db, slug: string, exceptCategoryId?: number): Promise<boolean> {
  const rows = await selectRows<{ id: number }>(
    db,
    sql`SELECT id FROM categories WHERE slug = ${slug}
        UNION ALL SELECT category_id FROM category_aliases WHERE slug = ${slug}`,
  );
  return rows.some((r) => r.id !== exceptCategoryId);
}

export async function insertCategory(
  db: Db,
  values: { slug: string; name: string; description: string },
): Promise<CategoryRow> {
  const [row] = await db.insert(categories).values(values).returning();
  return row!;
}

export async function updateCategoryRow(
  db: Db,
  id: number,
  fields: Partial<{ slug: string; name: string; description: string }>,
): Promise<CategoryRow | null> {
  const rows = await db
    .update(categories)
    .set({ ...fields, updatedAt: sql`now()` })
    .where(eq(categories.id, id))
    .returning();
  return rows[0] ?? null;
}

/** Keeps `slug` resolving to `categoryId` (after a rename or a merge). */
export async function addCategoryAlias(db: Db, slug: string, categoryId: number): Promise<void> {
  await db
    .insert(categoryAliases)
    .values({ slug, categoryId })
    .onConflictDoUpdate({ target: categoryAliases.slug, set: { categoryId } });
}

export async function moveCategoryAliases(db: Db, fromId: number, toId: number): Promise<void> {
  await db.update(categoryAliases).set({ categoryId: toId }).where(eq(categoryAliases.categoryId, fromId));
}

export async function deleteCategoryAlias(db: Db, slug: string): Promise<void> {
  await db.delete(categoryAliases).where(eq(categoryAliases.slug, slug));
}

/** Editions that have a section of this category. */
export async function issueIdsWithCategory(db: Db, categoryId: number): Promise<number[]> {
  const rows = await db
    .selectDistinct({ issueId: sections.issueId })
    .from(sections)
    .where(eq(sections.categoryId, categoryId));
  return rows.map((r) => r.issueId);
}

export async function deleteCategoryRow(db: Db, id: number): Promise<void> {
  await db.delete(categories).where(eq(categories.id, id));
}

/** Slugs of the editions with these ids (for events). */
export async function issueSlugs(db: Db, ids: number[]): Promise<Array<{ id: number; slug: string }>> {
  if (ids.length === 0) return [];
  return db.select({ id: issues.id, slug: issues.slug }).from(issues).where(inArray(issues.id, ids));
}
