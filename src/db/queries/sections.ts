import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { CategoryRow, PaperRow, SectionRow } from '../schema.js';
import { ALL_PAPER_COLUMNS, type PaperColumns, columnsKey } from './papers.js';
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
  /** [id, position, title, url, arxivId, version, createdAtMs, updatedAtMs] per paper, in position order (null where not asked for). */
  papers: Array<[number, number, string, string | null, string | null, number, number | null, number | null]> | null;
}

/**
 * Sections of several editions with their categories and their papers, in
 * ONE prepared statement (a section is never shown without its category, and
 * is small), in edition then number order. The papers of each section come as
 * one JSON array of positional arrays built by PostgreSQL: parsing one JSON
 * value per section costs Node far less than a row per paper, and arrays cost
 * PostgreSQL far less to build than objects. What the section already says
 * (edition, category, week, number) is not repeated per paper, and of the
 * papers' optional columns only those in `columns` are filled (see
 * PaperColumns; the others are null: such rows serve only what was asked for).
 */
export async function sectionsByIssueIds(
  db: Db,
  issueIds: readonly number[],
  columns: PaperColumns = ALL_PAPER_COLUMNS,
): Promise<Array<{ section: SectionRow; category: CategoryRow; papers: PaperRow[] }>> {
  if (issueIds.length === 0) return [];
  const or = (on: boolean, column: string) => sql.raw(on ? column : 'NULL');
  const rows = await preparedRows<RawSection>(
    db,
    `sections_by_issue_ids_v2_c${columnsKey(columns)}`,
    () => sql`SELECT s.id, s.issue_id AS "issueId", s.category_id AS "categoryId", s.number,
        i.week_start::text AS "weekStart", c.slug, c.name, c.description,
        date_part('epoch', c.created_at) * 1000 AS "categoryCreatedMs",
        date_part('epoch', c.updated_at) * 1000 AS "categoryUpdatedMs",
        (SELECT json_agg(json_build_array(p.id, p.position, ${or(columns.title, 'p.title')}, ${or(columns.url, 'p.url')},
                  ${or(columns.arxivId, 'p.arxiv_id')}, ${or(columns.version, 'p.version')},
                  ${or(columns.times, "date_part('epoch', p.created_at) * 1000")},
                  ${or(columns.times, "date_part('epoch', p.updated_at) * 1000")}) ORDER BY p.position)
           FROM papers p WHERE p.section_id = s.id) AS papers
      FROM sections s
      JOIN categories c ON c.id = s.category_id
      JOIN issues i ON i.id = s.issue_id
      WHERE s.issue_id = ANY(${sql.placeholder('issueIds')}::int[])
      ORDER BY s.issue_id, s.number`,
    { issueIds: [...issueIds] },
  );
  // One object per category, however many sections it numbers.
  const categories = new Map<number, CategoryRow>();
  return rows.map((r) => {
    const section: SectionRow = { id: r.id, issueId: r.issueId, categoryId: r.categoryId, number: r.number };
    let category = categories.get(r.categoryId);
    if (!category) {
      category = {
        id: r.categoryId,
        slug: r.slug,
        name: r.name,
        description: r.description,
        createdAt: new Date(r.categoryCreatedMs),
        updatedAt: new Date(r.categoryUpdatedMs),
      };
      categories.set(r.categoryId, category);
    }
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
      // (null when not asked for: see PaperColumns)
      createdAt: p[6] == null ? (null as unknown as Date) : new Date(p[6]),
      updatedAt: p[7] == null ? (null as unknown as Date) : new Date(p[7]),
    }));
    return { section, category, papers };
  });
}
