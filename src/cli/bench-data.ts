/**
 * `npm run bench:data -- --papers N [--fresh] [--seed S] [--per-week 20]`
 *
 * Fills DATABASE_URL (or the PGlite DATA_DIR) with generated weekly editions
 * for benchmarks: 12 categories, about 20 papers per week over 5 sections,
 * summaries of 150–250 words drawn from a Zipf-distributed LLM-research
 * vocabulary (so "reward model" is common and some terms are rare), titles
 * that often name a model family, and an arXiv id per paper. Deterministic for
 * a given seed. Without --fresh the new editions follow the latest week.
 *
 * Fast at 1 M papers on PostgreSQL: multi-row INSERTs of whole batches of
 * editions (about 11 000 bound parameters per statement) on two connections,
 * and on a large fresh load the two GIN indexes are dropped first and rebuilt
 * at the end from their own definitions.
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../config.js';
import type { Db } from '../db/client.js';
import { openCommandDb } from './database.js';
import { ensureCategories } from '../db/queries/issue-content.js';
import { selectRows } from '../db/queries/util.js';
import { GENERATED_CATEGORIES, addDaysIso, benchSummary, benchTitle, prng } from '../db/generate.js';

const { values } = parseArgs({
  options: {
    papers: { type: 'string', default: '10000' },
    fresh: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    'per-week': { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '2' },
  },
});
const TOTAL = Number(values.papers);
const PER_WEEK = Number(values['per-week']);
const SEED = Number(values.seed);
const CONCURRENCY = Math.max(1, Number(values.concurrency));
if (!Number.isInteger(TOTAL) || TOTAL < 1 || !Number.isInteger(PER_WEEK) || PER_WEEK < 5 || PER_WEEK > 200) {
  console.error('usage: bench-data --papers N (N ≥ 1) [--fresh] [--seed S] [--per-week 5..200] [--concurrency C]');
  process.exit(2);
}

const ISSUES_PER_BATCH = Math.max(1, Math.floor(1000 / PER_WEEK));
const GIN_INDEXES = ['papers_search_vector_idx', 'papers_title_trgm_idx'];

const config = loadConfig();
const handle = await openCommandDb(config, 'bench:data', { poolMax: CONCURRENCY + 1 });
const db = handle.db;

if (values.fresh) {
  await db.execute(sql.raw('TRUNCATE papers, sections, issues, categories, category_aliases RESTART IDENTITY CASCADE'));
}
const categoryIds = [...(await ensureCategories(db, GENERATED_CATEGORIES)).values()];

const [state] = await selectRows<{ last: string | null; n: number }>(
  db,
  sql`SELECT max(week_start)::text AS last, count(*)::int AS n FROM issues`,
);
const firstWeek = state?.last ? addDaysIso(state.last, 7) : '2015-01-05';
const issueOffset = Number(state?.n ?? 0);
const editions = Math.ceil(TOTAL / PER_WEEK);

// A big load into PostgreSQL: build the GIN indexes once at the end instead of row by row.
const rebuild: string[] = [];
if (handle.kind === 'postgres' && TOTAL >= 50_000) {
  const defs = await selectRows<{ indexname: string; indexdef: string }>(
    db,
    sql`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'papers'
        AND indexname IN (${sql.join(GIN_INDEXES.map((n) => sql`${n}`), sql`, `)})`,
  );
  for (const d of defs) {
    rebuild.push(d.indexdef);
    await db.execute(sql.raw(`DROP INDEX ${d.indexname}`));
  }
}

/** arXiv-style id, unique per generated paper: YYMM of its month (in a 100-year cycle), then a 5-digit serial. */
function arxivId(edition: number, p: number): string {
  const week = edition + issueOffset;
  const month = Math.floor((week * 7) / 30.44);
  const firstWeekOfMonth = Math.ceil((month * 30.44) / 7);
  const yymm = `${String(Math.floor(month / 12) % 100).padStart(2, '0')}${String((month % 12) + 1).padStart(2, '0')}`;
  const serial = Math.floor(month / 1200) * 10000 + (week - firstWeekOfMonth) * PER_WEEK + p + 1;
  return `${yymm}.${String(serial).padStart(5, '0')}`;
}

interface GenPaper {
  sectionIndex: number;
  title: string;
  summary: string;
  arxivId: string;
}

function generateIssue(e: number): { weekStart: string; cats: number[]; papers: GenPaper[] } {
  const rand = prng(SEED * 1_000_003 + e + issueOffset);
  const weekStart = addDaysIso(firstWeek, 7 * e);
  const cats = [...categoryIds].sort(() => rand() - 0.5).slice(0, 5);
  const count = Math.min(TOTAL - e * PER_WEEK, PER_WEEK);
  const papers: GenPaper[] = [];
  for (let p = 0; p < count; p++) {
    const words = 150 + Math.floor(rand() * 101);
    papers.push({ sectionIndex: p % 5, title: benchTitle(rand, e * PER_WEEK + p), summary: benchSummary(rand, words), arxivId: arxivId(e, p) });
  }
  return { weekStart, cats, papers };
}

async function insertBatch(target: Db, from: number, to: number): Promise<void> {
  const eds = [];
  for (let e = from; e < to; e++) eds.push({ e, ...generateIssue(e) });
  const issueRows = await selectRows<{ id: number; week: string }>(
    target,
    sql`INSERT INTO issues (slug, title, subtitle, week_start, week_end, intro, status, published_at)
        VALUES ${sql.join(
          eds.map(
            (ed) =>
              sql`(${`bench-${ed.weekStart}`}, ${`Important LLM Papers for the Week of ${ed.weekStart}`}, 'Generated edition',
                   ${ed.weekStart}::date, ${addDaysIso(ed.weekStart, 6)}::date, '', 'published', ${`${addDaysIso(ed.weekStart, 7)}T08:00:00Z`}::timestamptz)`,
          ),
          sql`, `,
        )}
        RETURNING id, week_start::text AS week`,
  );
  const issueIdByWeek = new Map(issueRows.map((r) => [r.week, Number(r.id)]));
  const sectionValues = eds.flatMap((ed) =>
    ed.cats.map((c, i) => sql`(${issueIdByWeek.get(ed.weekStart)!}::int, ${c}::int, ${i + 1}::int)`),
  );
  const sectionRows = await selectRows<{ id: number; issue_id: number; number: number }>(
    target,
    sql`INSERT INTO sections (issue_id, category_id, number) VALUES ${sql.join(sectionValues, sql`, `)} RETURNING id, issue_id, number`,
  );
  const sectionId = new Map(sectionRows.map((r) => [`${r.issue_id}:${r.number}`, Number(r.id)]));
  const paperValues = eds.flatMap((ed) => {
    const issueId = issueIdByWeek.get(ed.weekStart)!;
    const positions = [0, 0, 0, 0, 0];
    return ed.papers.map((p) => {
      const position = ++positions[p.sectionIndex]!;
      const number = p.sectionIndex + 1;
      return sql`(${issueId}::int, ${sectionId.get(`${issueId}:${number}`)!}::int, ${ed.cats[p.sectionIndex]!}::int, ${ed.weekStart}::date,
        ${number}::int, ${position}::int, ${p.title}, ${p.summary}, ${`https://arxiv.org/abs/${p.arxivId}`}, ${p.arxivId})`;
    });
  });
  await target.execute(
    sql`INSERT INTO papers (issue_id, section_id, category_id, week_start, section_number, position, title, summary, url, arxiv_id)
        VALUES ${sql.join(paperValues, sql`, `)}`,
  );
}

const started = performance.now();
let next = 0;
let done = 0;
async function worker(): Promise<void> {
  for (;;) {
    const from = next;
    if (from >= editions) return;
    next = Math.min(editions, from + ISSUES_PER_BATCH);
    await insertBatch(db, from, next);
    done += next - from;
    if (Math.floor(done / ISSUES_PER_BATCH) % 50 === 0 || done === editions) {
      const s = (performance.now() - started) / 1000;
      process.stderr.write(`\r${Math.min(done * PER_WEEK, TOTAL)} / ${TOTAL} papers, ${s.toFixed(0)} s   `);
    }
  }
}
// Workers interleave, but each edition's text depends only on its index and the seed.
await Promise.all(Array.from({ length: handle.kind === 'postgres' ? CONCURRENCY : 1 }, () => worker()));
process.stderr.write('\n');

if (rebuild.length > 0) {
  const t = performance.now();
  await Promise.all(
    rebuild.map((def) =>
      db.transaction(async (tx) => {
        await tx.execute(sql.raw(`SET LOCAL maintenance_work_mem = '1GB'`));
        // An index build over a million rows outlasts the pool's statement timeout.
        await tx.execute(sql.raw('SET LOCAL statement_timeout = 0'));
        await tx.execute(sql.raw(def));
      }),
    ),
  );
  console.error(`rebuilt ${rebuild.length} GIN indexes in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}
if (handle.kind === 'postgres') await db.execute(sql.raw('VACUUM ANALYZE papers, sections, issues, categories'));
else await db.execute(sql.raw('ANALYZE papers'));
const [total] = await selectRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM papers`);
console.error(
  `${TOTAL} papers in ${editions} editions added in ${((performance.now() - started) / 1000).toFixed(1)} s; the archive has ${total?.n} papers`,
);
await handle.close();
