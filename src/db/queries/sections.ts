import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { type CategoryRow, type PaperRow, type SectionRow, categories, sections } from '../schema.js';
import { type RawPaper, toPaper } from './papers.js';

/**
 * The papers of the section as one JSON array built by PostgreSQL (number
 * order, the list columns of PAPER_COLUMNS): parsing one JSON value per
 * section costs Node far less than materialising a row per paper.
 */
const SECTION_PAPERS_JSON = sql<RawPaper[]>`coalesce((
  SELECT json_agg(json_build_object(
    'id', p.id, 'issueId', p.issue_id, 'sectionId', p.section_id, 'categoryId', p.category_id,
    'weekStart', p.week_start::text, 'sectionNumber', p.section_number, 'position', p.position,
    'title', p.title, 'url', p.url, 'arxivId', p.arxiv_id, 'version', p.version,
    'createdAtMs', (extract(epoch from p.created_at) * 1000)::float8,
    'updatedAtMs', (extract(epoch from p.updated_at) * 1000)::float8) ORDER BY p.position)
  FROM papers p WHERE p.section_id = ${sections.id}), '[]'::json)`;

/**
 * Sections of several editions with their categories and their papers, in
 * ONE statement (a section is never shown without its category, and is
 * small), in edition then number order.
 */
export async function sectionsByIssueIds(
  db: Db,
  issueIds: readonly number[],
): Promise<Array<{ section: SectionRow; category: CategoryRow; papers: PaperRow[] }>> {
  const rows = await db
    .select({ section: sections, category: categories, papers: SECTION_PAPERS_JSON })
    .from(sections)
    .innerJoin(categories, eq(categories.id, sections.categoryId))
    .where(inArray(sections.issueId, [...issueIds]))
    .orderBy(asc(sections.issueId), asc(sections.number));
  return rows.map((r) => ({ section: r.section, category: r.category, papers: (r.papers ?? []).map(toPaper) }));
}
