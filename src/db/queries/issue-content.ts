import { asc, eq, getTableColumns, inArray, sql } from '../orm.js';
import type { Db } from '../client.js';
import {
  type Aside,
  type ImportWarning,
  type PaperWithSummary,
  categories,
  issues,
  papers,
  sections,
} from '../schema.js';
import type { Visibility } from './fragments.js';
import { selectRows } from './util.js';

export interface IssueContentPaper {
  title: string;
  summary: string;
  url?: string | null;
  arxivId?: string | null;
  /** The number the imported text wrote, when it differs from the stored one. */
  numberAsWritten?: string | null;
}

export interface IssueContentSection {
  categoryId: number;
  papers: IssueContentPaper[];
}

export interface IssueContentInput {
  slug: string;
  title: string;
  subtitle: string;
  weekStart: string;
  weekEnd: string;
  intro: string;
  outro: string;
  asides: Aside[];
  /** As the editor wrote it; null (the default): derived from the sections and asides. */
  tableOfContents?: string[] | null;
  /** Warnings of the import that writes it (default: none). */
  importWarnings?: ImportWarning[];
  status: 'draft' | 'published';
  publishedAt: Date | null;
  /** In order: section i gets number i + 1, its papers positions 1, 2, … */
  sections: IssueContentSection[];
}

/** Rows per INSERT, well under PostgreSQL's (and PGlite's) bound-parameter limits. */
const PAPER_CHUNK = 500;

/**
 * Writes a whole edition: the issue, its sections and its papers. Call it
 * inside a transaction (pass the transaction as `db`) so that it is all or
 * nothing. Returns the new issue id.
 */
export async function insertIssueContent(db: Db, edition: IssueContentInput): Promise<number> {
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
  sectionInputs: IssueContentSection[],
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
      numberAsWritten: p.numberAsWritten ?? null,
    })),
  );
  for (let i = 0; i < paperRows.length; i += PAPER_CHUNK) {
    await db.insert(papers).values(paperRows.slice(i, i + PAPER_CHUNK));
  }
}

/** A paper of an edition as the importer matches it against a new text. */
export interface CurrentPaper {
  id: number;
  sectionNumber: number;
  position: number;
  title: string;
  arxivId: string | null;
}

/** The papers of an edition in number order (for matching on replace). */
export async function currentPapers(db: Db, issueId: number): Promise<CurrentPaper[]> {
  return db
    .select({
      id: papers.id,
      sectionNumber: papers.sectionNumber,
      position: papers.position,
      title: papers.title,
      arxivId: papers.arxivId,
    })
    .from(papers)
    .where(eq(papers.issueId, issueId))
    .orderBy(asc(papers.sectionNumber), asc(papers.position));
}

/** A paper of the new text, with the id of the existing paper it replaces (null: a new paper). */
export type ReplacingPaper = IssueContentPaper & { id: number | null };
export type ReplacingSection = Omit<IssueContentSection, 'papers'> & { papers: ReplacingPaper[] };

export interface ReplaceCounts {
  /** Existing papers kept whose fields, number or section changed (their version was bumped). */
  changed: number;
  added: number;
  removed: number;
}

/**
 * Replaces the sections and papers of an edition in place: the section row of
 * a category still present is kept, a paper with an id is updated (version
 * bumped only when something of it changed), papers without one are
 * inserted, and papers and sections no longer present are deleted. Numbers
 * may be swapped, so the unique keys are checked at the end. A fixed number
 * of statements, whatever the size of the edition (plus one INSERT per 500
 * new papers). Call it inside the import's transaction.
 */
export async function replaceIssueContent(
  db: Db,
  issueId: number,
  weekStart: string,
  sectionInputs: ReplacingSection[],
): Promise<ReplaceCounts> {
  await db.execute(sql`SET CONSTRAINTS sections_issue_number_key, papers_issue_number_key DEFERRED`);
  const sectionIds = await placeSections(db, issueId, sectionInputs);
  const rows = sectionInputs.flatMap((s, i) =>
    s.papers.map((p, j) => ({
      ...p,
      sectionId: sectionIds[i]!,
      categoryId: s.categoryId,
      sectionNumber: i + 1,
      position: j + 1,
    })),
  );
  const keptIds = rows.flatMap((r) => (r.id === null ? [] : [r.id]));
  const changed = await updateKeptPapers(
    db,
    issueId,
    rows.filter((r) => r.id !== null),
  );
  const removed = await selectRows<{ id: number }>(
    db,
    sql`DELETE FROM papers WHERE issue_id = ${issueId}::int
          AND id NOT IN (SELECT value::int FROM jsonb_array_elements_text(${JSON.stringify(keptIds)}::jsonb))
        RETURNING id`,
  );
  const added = rows.filter((r) => r.id === null);
  for (let i = 0; i < added.length; i += PAPER_CHUNK) {
    await db.insert(papers).values(
      added.slice(i, i + PAPER_CHUNK).map(({ id: _new, ...r }) => ({
        ...r,
        issueId,
        weekStart,
        url: r.url ?? null,
        arxivId: r.arxivId ?? null,
        numberAsWritten: r.numberAsWritten ?? null,
      })),
    );
  }
  await db.execute(sql`DELETE FROM sections WHERE issue_id = ${issueId}::int
    AND id NOT IN (SELECT value::int FROM jsonb_array_elements_text(${JSON.stringify(sectionIds)}::jsonb))`);
  await db.execute(sql`SET CONSTRAINTS sections_issue_number_key, papers_issue_number_key IMMEDIATE`);
  return { changed, added: added.length, removed: removed.length };
}

/**
 * The section row of each new section, in order: the existing row of its
 * category (renumbered) or a new one. Two statements at most, plus one read.
 */
async function placeSections(db: Db, issueId: number, sectionInputs: ReplacingSection[]): Promise<number[]> {
  const existing = await db
    .select({ id: sections.id, categoryId: sections.categoryId })
    .from(sections)
    .where(eq(sections.issueId, issueId));
  const byCategory = new Map(existing.map((r) => [r.categoryId, r.id]));
  const kept = sectionInputs.flatMap((s, i) => {
    const id = byCategory.get(s.categoryId);
    return id === undefined ? [] : [{ id, number: i + 1 }];
  });
  if (kept.length > 0) {
    await db.execute(sql`UPDATE sections s SET number = v.number
      FROM jsonb_to_recordset(${JSON.stringify(kept)}::jsonb) AS v(id int, number int)
      WHERE s.id = v.id AND s.number IS DISTINCT FROM v.number`);
  }
  const fresh = sectionInputs.flatMap((s, i) =>
    byCategory.has(s.categoryId) ? [] : [{ issueId, categoryId: s.categoryId, number: i + 1 }],
  );
  const created =
    fresh.length > 0
      ? await db.insert(sections).values(fresh).returning({ id: sections.id, categoryId: sections.categoryId })
      : [];
  for (const r of created) byCategory.set(r.categoryId, r.id);
  return sectionInputs.map((s) => byCategory.get(s.categoryId)!);
}

interface KeptPaperRow extends ReplacingPaper {
  sectionId: number;
  categoryId: number;
  sectionNumber: number;
  position: number;
}

/**
 * Updates the kept papers in one statement; only rows where something
 * differs are written (and get version + 1). Returns how many were.
 */
async function updateKeptPapers(db: Db, issueId: number, rows: KeptPaperRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const values = rows.map((r) => ({
    id: r.id,
    section_id: r.sectionId,
    category_id: r.categoryId,
    section_number: r.sectionNumber,
    position: r.position,
    title: r.title,
    summary: r.summary,
    url: r.url ?? null,
    arxiv_id: r.arxivId ?? null,
    number_as_written: r.numberAsWritten ?? null,
  }));
  const updated = await selectRows<{ id: number }>(
    db,
    sql`UPDATE papers p SET section_id = v.section_id, category_id = v.category_id, section_number = v.section_number,
          position = v.position, title = v.title, summary = v.summary, url = v.url, arxiv_id = v.arxiv_id,
          number_as_written = v.number_as_written, version = p.version + 1, updated_at = now()
        FROM jsonb_to_recordset(${JSON.stringify(values)}::jsonb) AS v(id int, section_id int, category_id int,
          section_number int, position int, title text, summary text, url text, arxiv_id text, number_as_written text)
        WHERE p.id = v.id AND p.issue_id = ${issueId}::int
          AND (p.section_id, p.category_id, p.section_number, p.position, p.title, p.summary, p.url, p.arxiv_id, p.number_as_written)
            IS DISTINCT FROM (v.section_id, v.category_id, v.section_number, v.position, v.title, v.summary, v.url, v.arxiv_id, v.number_as_written)
        RETURNING p.id`,
  );
  return updated.length;
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
    .where(
      inArray(
        categories.slug,
        inputs.map((c) => c.slug),
      ),
    );
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

export type IssueFields = Partial<Omit<IssueContentInput, 'sections'>>;

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

export interface IssueRows {
  issue: typeof issues.$inferSelect;
  sections: Array<typeof sections.$inferSelect & { category: typeof categories.$inferSelect }>;
  papers: PaperWithSummary[];
}

/** Everything needed to export an edition, in three statements. */
export async function issueRows(db: Db, slug: string, vis: Visibility): Promise<IssueRows | null> {
  const [issue] = await db.select().from(issues).where(eq(issues.slug, slug));
  if (!issue || (!vis.drafts && issue.status !== 'published')) return null;
  const sectionRows = await db
    .select({ section: sections, category: categories })
    .from(sections)
    .innerJoin(categories, eq(categories.id, sections.categoryId))
    .where(eq(sections.issueId, issue.id))
    .orderBy(sections.number);
  const { searchVector: _omit, titleFolded: _folded, ...paperColumns } = getTableColumns(papers);
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
