import { eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { type Aside, type PaperWithSummary, categories, issues, papers, sections } from '../schema.js';

export interface NewEditionPaper {
  title: string;
  summary: string;
  url?: string | null;
  arxivId?: string | null;
}

export interface NewEditionSection {
  categoryId: number;
  papers: NewEditionPaper[];
}

export interface NewEdition {
  slug: string;
  title: string;
  subtitle: string;
  weekStart: string;
  weekEnd: string;
  intro: string;
  outro: string;
  asides: Aside[];
  status: 'draft' | 'published';
  publishedAt: Date | null;
  /** In order: section i gets number i + 1, its papers positions 1, 2, … */
  sections: NewEditionSection[];
}

/** Rows per INSERT, well under PostgreSQL's (and PGlite's) bound-parameter limits. */
const PAPER_CHUNK = 500;

/**
 * Writes a whole edition: the issue, its sections and its papers. Call it
 * inside a transaction (pass the transaction as `db`) so that it is all or
 * nothing. Returns the new issue id.
 */
export async function insertEdition(db: Db, edition: NewEdition): Promise<number> {
  const { sections: sectionInputs, ...issueFields } = edition;
  const [issue] = await db.insert(issues).values(issueFields).returning({ id: issues.id });
  if (!issue) throw new Error('insert into issues returned no row');
  await insertSections(db, issue.id, edition.weekStart, sectionInputs);
  return issue.id;
}

/** Inserts the sections and papers of an (empty) edition. */
export async function insertSections(
  db: Db,
  issueId: number,
  weekStart: string,
  sectionInputs: NewEditionSection[],
): Promise<void> {
  if (sectionInputs.length === 0) return;
  const sectionRows = await db
    .insert(sections)
    .values(sectionInputs.map((s, i) => ({ issueId, categoryId: s.categoryId, number: i + 1 })))
    .returning({ id: sections.id, number: sections.number });
  const sectionIdByNumber = new Map(sectionRows.map((r) => [r.number, r.id]));
  const paperRows = sectionInputs.flatMap((s, i) =>
    s.papers.map((p, j) => ({
      issueId,
      sectionId: sectionIdByNumber.get(i + 1)!,
      categoryId: s.categoryId,
      weekStart,
      sectionNumber: i + 1,
      position: j + 1,
      title: p.title,
      summary: p.summary,
      url: p.url ?? null,
      arxivId: p.arxivId ?? null,
    })),
  );
  for (let i = 0; i < paperRows.length; i += PAPER_CHUNK) {
    await db.insert(papers).values(paperRows.slice(i, i + PAPER_CHUNK));
  }
}

/** Removes all sections (and so all papers) of an edition. */
export async function deleteSections(db: Db, issueId: number): Promise<void> {
  await db.delete(sections).where(eq(sections.issueId, issueId));
}

export interface CategoryInput {
  slug: string;
  name: string;
  description?: string;
}

/**
 * Returns the id of each category by slug, creating the missing ones
 * (concurrent creators of the same slug both end up with the one row).
 */
export async function ensureCategories(db: Db, inputs: CategoryInput[]): Promise<Map<string, number>> {
  if (inputs.length === 0) return new Map();
  await db
    .insert(categories)
    .values(inputs.map((c) => ({ slug: c.slug, name: c.name, description: c.description ?? '' })))
    .onConflictDoNothing({ target: categories.slug });
  const rows = await db
    .select({ id: categories.id, slug: categories.slug })
    .from(categories)
    .where(inArray(categories.slug, inputs.map((c) => c.slug)));
  return new Map(rows.map((r) => [r.slug, r.id]));
}

export async function issueIdBySlug(db: Db, slug: string): Promise<number | null> {
  const rows = await db.select({ id: issues.id }).from(issues).where(eq(issues.slug, slug));
  return rows[0]?.id ?? null;
}

/** Whether the database holds no edition at all. */
export async function isArchiveEmpty(db: Db): Promise<boolean> {
  const rows = await db.select({ one: sql<number>`1` }).from(issues).limit(1);
  return rows.length === 0;
}

/** The edition with this slug, locked for the rest of the transaction. */
export async function lockIssueBySlug(db: Db, slug: string): Promise<typeof issues.$inferSelect | null> {
  const rows = await db.select().from(issues).where(eq(issues.slug, slug)).for('update');
  return rows[0] ?? null;
}

export type IssueFields = Partial<Omit<NewEdition, 'sections'>>;

/** Updates an edition's own fields, bumps its version and updated_at; keeps papers' week copy in step. */
export async function updateIssueFields(db: Db, issueId: number, fields: IssueFields): Promise<void> {
  await db
    .update(issues)
    .set({ ...fields, version: sql`${issues.version} + 1`, updatedAt: sql`now()` })
    .where(eq(issues.id, issueId));
  if (fields.weekStart !== undefined) {
    await db.update(papers).set({ weekStart: fields.weekStart }).where(eq(papers.issueId, issueId));
  }
}

export interface EditionRows {
  issue: typeof issues.$inferSelect;
  sections: Array<typeof sections.$inferSelect & { category: typeof categories.$inferSelect }>;
  papers: PaperWithSummary[];
}

/** Everything needed to export an edition, in three statements. */
export async function editionRows(db: Db, slug: string, includeDrafts: boolean): Promise<EditionRows | null> {
  const [issue] = await db.select().from(issues).where(eq(issues.slug, slug));
  if (!issue || (!includeDrafts && issue.status !== 'published')) return null;
  const sectionRows = await db
    .select({ section: sections, category: categories })
    .from(sections)
    .innerJoin(categories, eq(categories.id, sections.categoryId))
    .where(eq(sections.issueId, issue.id))
    .orderBy(sections.number);
  const { searchVector: _omit, ...paperColumns } = getTableColumns(papers);
  const paperRows = await db
    .select(paperColumns)
    .from(papers)
    .where(eq(papers.issueId, issue.id))
    .orderBy(papers.sectionNumber, papers.position);
  return {
    issue,
    sections: sectionRows.map((r) => ({ ...r.section, category: r.category })),
    papers: paperRows,
  };
}
