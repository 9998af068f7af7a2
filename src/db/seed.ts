import { sql } from './orm.js';
import type { Db, DbHandle } from './client.js';
import {
  type CategoryInput,
  type IssueContentInput,
  type IssueContentPaper,
  ensureCategories,
  insertIssueContent,
  issueIdBySlug,
} from './queries/issue-content.js';
import { selectRows } from './queries/util.js';

/** A published edition whose sections name their category by slug (the fixtures' shape). */
export interface SeedIssue extends Omit<IssueContentInput, 'status' | 'publishedAt' | 'sections'> {
  publishedAt: string; // ISO datetime
  sections: Array<{ categorySlug: string; papers: IssueContentPaper[] }>;
}

/**
 * Writes one published edition with its categories, in one transaction.
 * Idempotent: when an edition with its slug exists, nothing changes.
 * Returns whether it inserted anything. The content comes from src/fixtures.
 */
export async function seedIssue(db: Db, categories: CategoryInput[], issue: SeedIssue): Promise<boolean> {
  return db.transaction(async (tx) => {
    const txDb = tx as unknown as Db;
    if ((await issueIdBySlug(txDb, issue.slug)) !== null) return false;
    const categoryIds = await ensureCategories(txDb, categories);
    const { sections, publishedAt, ...fields } = issue;
    await insertIssueContent(txDb, {
      ...fields,
      status: 'published',
      publishedAt: new Date(publishedAt),
      sections: sections.map((s) => ({
        categoryId: categoryIds.get(s.categorySlug)!,
        papers: s.papers,
      })),
    });
    return true;
  });
}

// ---------------------------------------------------------------------------
// Bulk loading of generated archives (`npm run bench:data`; the editions come from src/fixtures).
// ---------------------------------------------------------------------------

/** One published edition as rows: sections by category id, papers numbered. */
export interface BulkIssue {
  slug: string;
  title: string;
  subtitle: string;
  weekStart: string;
  weekEnd: string;
  intro: string;
  /** ISO datetime. */
  publishedAt: string;
  /** The category of section 1, 2, … */
  sectionCategoryIds: number[];
  papers: Array<{
    sectionNumber: number;
    position: number;
    title: string;
    summary: string;
    url: string | null;
    arxivId: string | null;
  }>;
}

/** The GIN indexes a large load drops first and rebuilds at the end. */
const GIN_INDEXES = [
  'papers_search_vector_idx',
  'papers_title_trgm_idx',
  'papers_title_vector_idx',
  'papers_terms_idx',
];

/** Empties the archive (editions, papers, categories); API tokens stay. */
export async function truncateArchive(db: Db): Promise<void> {
  await db.execute(sql.raw('TRUNCATE papers, sections, issues, categories, category_aliases RESTART IDENTITY CASCADE'));
}

/** The latest week of the archive and how many editions it holds. */
export async function archiveEnd(db: Db): Promise<{ lastWeek: string | null; issues: number }> {
  const [state] = await selectRows<{ last: string | null; n: number }>(
    db,
    sql`SELECT max(week_start)::text AS last, count(*)::int AS n FROM issues`,
  );
  return { lastWeek: state?.last ?? null, issues: Number(state?.n ?? 0) };
}

/** Drops the papers' GIN indexes; returns their definitions, for rebuildIndexes. */
export async function dropPaperSearchIndexes(db: Db): Promise<string[]> {
  const defs = await selectRows<{ indexname: string; indexdef: string }>(
    db,
    sql`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'papers'
        AND indexname IN (${sql.join(
          GIN_INDEXES.map((n) => sql`${n}`),
          sql`, `,
        )})`,
  );
  for (const d of defs) await db.execute(sql.raw(`DROP INDEX ${d.indexname}`));
  return defs.map((d) => d.indexdef);
}

/**
 * Builds indexes from their definitions, each in a transaction of its own, without the statement timeout, at most
 * `concurrency` at a time: a build holds its connection for minutes at a million papers, so one more build than
 * the pool has connections waits past the pool's connection timeout and fails.
 */
export async function rebuildIndexes(db: Db, definitions: string[], concurrency: number): Promise<void> {
  const queue = [...definitions];
  const builder = async () => {
    for (let def = queue.shift(); def !== undefined; def = queue.shift()) {
      const statement = def;
      await db.transaction(async (tx) => {
        await tx.execute(sql.raw(`SET LOCAL maintenance_work_mem = '1GB'`));
        // An index build over a million rows outlasts the pool's statement timeout.
        await tx.execute(sql.raw('SET LOCAL statement_timeout = 0'));
        await tx.execute(sql.raw(statement));
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, definitions.length)) }, builder));
}

/**
 * Writes whole editions in three multi-row INSERTs (editions, sections, papers): fast at a million
 * papers. Keep a batch to about a thousand papers (ten bound parameters each).
 */
export async function insertIssuesInBulk(db: Db, batch: BulkIssue[]): Promise<void> {
  const issueRows = await selectRows<{ id: number; week: string }>(
    db,
    sql`INSERT INTO issues (slug, title, subtitle, week_start, week_end, intro, status, published_at)
        VALUES ${sql.join(
          batch.map(
            (ed) =>
              sql`(${ed.slug}, ${ed.title}, ${ed.subtitle}, ${ed.weekStart}::date, ${ed.weekEnd}::date, ${ed.intro}, 'published', ${ed.publishedAt}::timestamptz)`,
          ),
          sql`, `,
        )}
        RETURNING id, week_start::text AS week`,
  );
  const issueIdByWeek = new Map(issueRows.map((r) => [r.week, Number(r.id)]));
  const sectionValues = batch.flatMap((ed) =>
    ed.sectionCategoryIds.map((c, i) => sql`(${issueIdByWeek.get(ed.weekStart)!}::int, ${c}::int, ${i + 1}::int)`),
  );
  const sectionRows = await selectRows<{ id: number; issue_id: number; number: number }>(
    db,
    sql`INSERT INTO sections (issue_id, category_id, number) VALUES ${sql.join(sectionValues, sql`, `)} RETURNING id, issue_id, number`,
  );
  const sectionId = new Map(sectionRows.map((r) => [`${r.issue_id}:${r.number}`, Number(r.id)]));
  const paperValues = batch.flatMap((ed) => {
    const issueId = issueIdByWeek.get(ed.weekStart)!;
    return ed.papers.map(
      (p) =>
        sql`(${issueId}::int, ${sectionId.get(`${issueId}:${p.sectionNumber}`)!}::int, ${ed.sectionCategoryIds[p.sectionNumber - 1]!}::int, ${ed.weekStart}::date,
          ${p.sectionNumber}::int, ${p.position}::int, ${p.title}, ${p.summary}, ${p.url}, ${p.arxivId})`,
    );
  });
  if (paperValues.length === 0) return;
  await db.execute(
    sql`INSERT INTO papers (issue_id, section_id, category_id, week_start, section_number, position, title, summary, url, arxiv_id)
        VALUES ${sql.join(paperValues, sql`, `)}`,
  );
}

/** Fresh planner statistics after a load (and, on PostgreSQL, a vacuum). */
export async function analyzeArchive(handle: Pick<DbHandle, 'db' | 'kind' | 'pool'>): Promise<void> {
  const statement = 'VACUUM ANALYZE papers, paper_title_terms, sections, issues, categories';
  if (handle.kind === 'postgres' && handle.pool) {
    // A vacuum of a million fresh rows outlasts the pool's statement timeout, and cannot run in a transaction (where
    // SET LOCAL would lift it): one connection of its own, the timeout lifted for it alone.
    const client = await handle.pool.connect();
    try {
      await client.query('SET statement_timeout = 0');
      await client.query(statement);
    } finally {
      client.release(true);
    }
  } else if (handle.kind === 'postgres') await handle.db.execute(sql.raw(statement));
  else await handle.db.execute(sql.raw('ANALYZE papers, paper_title_terms'));
}

/** Papers in the archive. */
export async function countPapers(db: Db): Promise<number> {
  const [total] = await selectRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM papers`);
  return Number(total?.n ?? 0);
}
