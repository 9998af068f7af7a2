import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { CategoryRow, PaperRow, SectionRow } from '../schema.js';
import { preparedRows } from './util.js';

/** A section row with its category and its papers, as the statement below returns it. */
interface RawSection {
  id: number;
  issueId: number;
  categoryId: number;
  number: number;
  weekStart: string;
  slug: string;
  name: string;
  description: string;
  categoryCreatedMs: number;
  categoryUpdatedMs: number;
  /** [id, position, title, url, arxivId, version, createdAtMs, updatedAtMs] per paper, in position order. */
  papers: Array<[number, number, string, string | null, string | null, number, number, number]> | null;
}

/**
 * Sections of several editions with their categories and their papers, in
 * ONE prepared statement (a section is never shown without its category, and
 * is small), in edition then number order. The papers of each section come as
 * one JSON array of positional arrays built by PostgreSQL: parsing one JSON
 * value per section costs Node far less than a row per paper, and arrays cost
 * PostgreSQL far less to build than objects. What the section already says
 * (edition, category, week, number) is not repeated per paper.
 */
export async function sectionsByIssueIds(
  db: Db,
  issueIds: readonly number[],
): Promise<Array<{ section: SectionRow; category: CategoryRow; papers: PaperRow[] }>> {
  if (issueIds.length === 0) return [];
  const rows = await preparedRows<RawSection>(
    db,
    'sections_by_issue_ids_v1',
    () => sql`SELECT s.id, s.issue_id AS "issueId", s.category_id AS "categoryId", s.number,
        i.week_start::text AS "weekStart", c.slug, c.name, c.description,
        date_part('epoch', c.created_at) * 1000 AS "categoryCreatedMs",
        date_part('epoch', c.updated_at) * 1000 AS "categoryUpdatedMs",
        (SELECT json_agg(json_build_array(p.id, p.position, p.title, p.url, p.arxiv_id, p.version,
                  date_part('epoch', p.created_at) * 1000, date_part('epoch', p.updated_at) * 1000) ORDER BY p.position)
           FROM papers p WHERE p.section_id = s.id) AS papers
      FROM sections s
      JOIN categories c ON c.id = s.category_id
      JOIN issues i ON i.id = s.issue_id
      WHERE s.issue_id = ANY(${sql.placeholder('issueIds')}::int[])
      ORDER BY s.issue_id, s.number`,
    { issueIds: [...issueIds] },
  );
  return rows.map((r) => {
    const section: SectionRow = { id: r.id, issueId: r.issueId, categoryId: r.categoryId, number: r.number };
    const category: CategoryRow = {
      id: r.categoryId,
      slug: r.slug,
      name: r.name,
      description: r.description,
      createdAt: new Date(r.categoryCreatedMs),
      updatedAt: new Date(r.categoryUpdatedMs),
    };
    const papers: PaperRow[] = (r.papers ?? []).map((p) => ({
      id: p[0],
      issueId: r.issueId,
      sectionId: r.id,
      categoryId: r.categoryId,
      weekStart: r.weekStart,
      sectionNumber: r.number,
      position: p[1],
      title: p[2],
      url: p[3],
      arxivId: p[4],
      version: p[5],
      createdAt: new Date(p[6]),
      updatedAt: new Date(p[7]),
    }));
    return { section, category, papers };
  });
}
