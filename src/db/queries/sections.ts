import { sql } from '../orm.js';
import type { Db } from '../client.js';
import { ALL_PAPER_COLUMNS, PAPER, type PaperColumns, type PaperView, columnsKey } from '../read-model/paper.js';
import type { CategoryRow, SectionRow } from '../schema.js';
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
  /** Per paper, in position order: the paper's columns that the section does not give (see `fromSection`). */
  papers: unknown[][] | null;
}

/** What a section gives its papers (the paper columns declared with `section`). */
const fromSection = (c: { section: string | undefined }) => c.section !== undefined;

/** Whether papers are in position order (they are, as PostgreSQL aggregates a sorted subquery). */
function byPosition(papers: readonly PaperView[]): boolean {
  for (let k = 1; k < papers.length; k++) if (papers[k - 1]!.position! > papers[k]!.position!) return false;
  return true;
}

/**
 * Sections of several editions with their categories and their papers, in
 * ONE prepared statement (a section is never shown without its category, and
 * is small), in edition then number order. The papers of each section come as
 * one JSON array of positional arrays built by PostgreSQL: parsing one JSON
 * value per section costs Node far less than a row per paper, and arrays cost
 * PostgreSQL far less to build than objects. What the section already says
 * (edition, category, week, number) is not repeated per paper, and of the
 * papers' lookahead columns only those in `columns` are read (see
 * PaperColumns; the others are absent: such rows serve only what was asked for).
 * The papers are aggregated from a subquery sorted by the (section, position)
 * index rather than with json_agg's own ORDER BY, which PostgreSQL 15 runs as
 * a sort per section (a quarter of the statement's cost for 20 editions);
 * SQL does not promise that order, so it is checked here.
 */
export async function sectionsByIssueIds(
  db: Db,
  issueIds: readonly number[],
  columns: PaperColumns = ALL_PAPER_COLUMNS,
): Promise<Array<{ section: SectionRow; category: CategoryRow; papers: PaperView[] }>> {
  if (issueIds.length === 0) return [];
  // A section's papers always carry their position (its order, checked below); the rest of their place comes
  // from the section.
  columns = { ...columns, place: true };
  const rows = await preparedRows<RawSection>(
    db,
    `sections_by_issue_ids_v3_c${columnsKey(columns)}`,
    // The statement text is built only when this column set is first prepared.
    () => sql`SELECT s.id, s.issue_id AS "issueId", s.category_id AS "categoryId", s.number,
        i.week_start::text AS "weekStart", c.slug, c.name, c.description,
        date_part('epoch', c.created_at) * 1000 AS "categoryCreatedMs",
        date_part('epoch', c.updated_at) * 1000 AS "categoryUpdatedMs",
        (SELECT json_agg(json_build_array(${sql.raw(PAPER.jsonItems('p', columns, { except: fromSection }).join(', '))}))
           FROM (SELECT ${sql.raw(PAPER.rawColumns('p', columns, { except: fromSection }).join(', '))}
             FROM papers p WHERE p.section_id = s.id ORDER BY p.position) p) AS papers
      FROM sections s
      JOIN categories c ON c.id = s.category_id
      JOIN issues i ON i.id = s.issue_id
      WHERE s.issue_id = ANY(${sql.placeholder('issueIds')}::int[])
      ORDER BY s.issue_id, s.number`,
    { issueIds: [...issueIds] },
  );
  const decode = PAPER.arrayDecoder(columns, { except: fromSection });
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
    const papers = (r.papers ?? []).map((a) => decode(a, r as unknown as Record<string, unknown>));
    if (!byPosition(papers)) papers.sort((a, b) => a.position! - b.position!);
    return { section, category, papers };
  });
}
