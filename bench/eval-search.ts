/**
 * Relevance of `searchPapers` on a fixed test set (tests/relevance/): graded
 * judgments written by hand for queries of every kind, scored with nDCG@10,
 * MRR and recall@20, per query, per kind and overall.
 *
 *   npm run eval:search                  # table + BENCHMARKS.md section
 *   npm run eval:search -- --check       # exit 1 when nDCG@10 drops > 0.02 below tests/relevance/baseline.json
 *   npm run eval:search -- --update      # rewrite the baseline with this run's figures
 *   npm run eval:search -- --audit       # also the top 10 of every query, to review the judgments
 *   npm run eval:search -- --no-report   # leave BENCHMARKS.md alone
 *
 * The archive: the sample edition, the hand-written editions of
 * tests/relevance/editions/ (imported as an editor imports them) and a generated
 * background (src/fixtures/generate.ts, fixed seed). Embedded PGlite, or a
 * throwaway database on DATABASE_URL's server. Queries go through the real
 * application (`app.fetch`), as a reader's would.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { createApp } from '../src/app.js';
import { analyzeArchive } from '../src/db/seed.js';
import { selectRows } from '../src/db/queries/util.js';
import { importIssueText } from '../src/editorial/import.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { seedSample } from '../src/fixtures/seed.js';
import { createTestDb } from '../tests/helpers/db.js';
import { machineLine, writeSection } from './report.js';

const started = performance.now();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'tests', 'relevance');
const BASELINE_FILE = path.join(dir, 'baseline.json');
/** How far overall nDCG@10 may fall below the baseline before --check fails. */
const TOLERANCE = 0.02;
/** Queries under this nDCG@10 get their top results printed. */
const WEAK = 0.8;

const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (!['--check', '--update', '--audit', '--no-report'].includes(a)) {
    console.error(`unknown option ${a} (expected --check, --update, --audit, --no-report)`);
    process.exit(2);
  }
}

const KINDS = [
  'title-words',
  'model-name',
  'acronym',
  'inflection',
  'phrase',
  'negation',
  'typo-title',
  'typo-summary',
  'unmatched-word',
  'arxiv-id',
] as const;
type Kind = (typeof KINDS)[number];

interface Query {
  query: string;
  kind: Kind;
  /** What the reader wants, in a sentence: the reason for the judgments. */
  intent: string;
  /** "edition-slug/S.P" → 2 (what the reader wants) or 1 (related); anything else counts 0. */
  judgments: Record<string, 1 | 2>;
}

interface TestSet {
  background: { editions: number; papersPerIssue: number; seed: number };
  queries: Query[];
}

function loadTestSet(): TestSet {
  const set = JSON.parse(readFileSync(path.join(dir, 'queries.json'), 'utf8')) as TestSet;
  const seen = new Set<string>();
  for (const q of set.queries) {
    const where = `queries.json: "${q.query}"`;
    if (!KINDS.includes(q.kind)) throw new Error(`${where}: unknown kind "${q.kind}"`);
    if (seen.has(q.query)) throw new Error(`${where}: listed twice`);
    seen.add(q.query);
    const grades = Object.values(q.judgments ?? {});
    if (grades.length === 0) throw new Error(`${where}: no judgments`);
    if (grades.some((g) => g !== 1 && g !== 2)) throw new Error(`${where}: grades are 1 or 2`);
  }
  return set;
}

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

/** Gain of a grade: exponential, so that one paper the reader wants outweighs several related ones. */
const gain = (grade: number) => 2 ** grade - 1;

function dcg(grades: number[], k: number): number {
  let sum = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) sum += gain(grades[i]!) / Math.log2(i + 2);
  return sum;
}

interface Scores {
  ndcg10: number;
  mrr: number;
  recall20: number;
}

function score(q: Query, ranked: string[]): Scores & { mrrGrade: 1 | 2 } {
  const grades = ranked.map((key) => q.judgments[key] ?? 0);
  const ideal = Object.values(q.judgments).sort((a, b) => b - a);
  // MRR looks for the first paper the reader wants when the judgments name one, else the first related one.
  const mrrGrade = ideal[0] === 2 ? 2 : 1;
  const first = grades.findIndex((g) => g >= mrrGrade);
  const relevant = ideal.length;
  const found = grades.slice(0, 20).filter((g) => g >= 1).length;
  return {
    ndcg10: dcg(grades, 10) / dcg(ideal, 10),
    mrr: first === -1 ? 0 : 1 / (first + 1),
    recall20: found / relevant,
    mrrGrade,
  };
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const averages = (rows: Scores[]): Scores => ({
  ndcg10: mean(rows.map((r) => r.ndcg10)),
  mrr: mean(rows.map((r) => r.mrr)),
  recall20: mean(rows.map((r) => r.recall20)),
});
const f3 = (x: number) => x.toFixed(3);

// ---------------------------------------------------------------------------
// The archive
// ---------------------------------------------------------------------------

const testSet = loadTestSet();
const handle = await createTestDb();
const { db } = handle;
let exitCode = 0;
try {
  const loadStart = performance.now();
  // Background first: older weeks (from 2015), and lower ids than the hand-written editions.
  await generateArchive(db, { ...testSet.background, status: 'published' });
  await seedSample(db);
  const editionFiles = readdirSync(path.join(dir, 'editions'))
    .filter((f) => f.endsWith('.txt') || f.endsWith('.md'))
    .sort();
  for (const file of editionFiles) {
    const text = readFileSync(path.join(dir, 'editions', file), 'utf8');
    const result = await importIssueText(db, text, {
      format: file.endsWith('.md') ? 'markdown' : 'text',
      publish: true,
    });
    // A warning means the text is not read as written: the judgments would point at the wrong papers.
    if (result.warnings.length > 0 || `${result.slug}.${file.split('.').pop()}` !== file) {
      const lines = result.warnings.map((w) => `  line ${w.line}: ${w.message}`).join('\n');
      throw new Error(`${file}: imported as ${result.slug} with ${result.warnings.length} warning(s)\n${lines}`);
    }
  }
  // The planner's statistics, as after any large load (the search reads its estimates).
  await analyzeArchive(handle);
  const papers = await selectRows<{ key: string; title: string }>(
    db,
    sql`SELECT i.slug || '/' || p.section_number || '.' || p.position AS key, p.title
        FROM papers p JOIN issues i ON i.id = p.issue_id`,
  );
  const titles = new Map(papers.map((p) => [p.key, p.title]));
  for (const q of testSet.queries) {
    for (const key of Object.keys(q.judgments)) {
      if (!titles.has(key)) throw new Error(`queries.json: "${q.query}" judges ${key}, which is not in the archive`);
    }
    // A paper carrying an excluded word cannot be what the reader of `-word` wants.
    for (const excluded of q.query.match(/(?<=^|\s)-[^\s"]+/g) ?? []) {
      const clash = await selectRows<{ key: string }>(
        db,
        sql`SELECT i.slug || '/' || p.section_number || '.' || p.position AS key
            FROM papers p JOIN issues i ON i.id = p.issue_id
            WHERE p.search_vector @@ websearch_to_tsquery('english', ${excluded.slice(1)})
              AND i.slug || '/' || p.section_number || '.' || p.position = ANY(${`{${Object.keys(q.judgments).join(',')}}`}::text[])`,
      );
      if (clash.length > 0) {
        throw new Error(
          `queries.json: "${q.query}" judges ${clash.map((c) => c.key).join(', ')}, which contain ${excluded}`,
        );
      }
    }
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;

  // -------------------------------------------------------------------------
  // The queries, through the application
  // -------------------------------------------------------------------------

  const app = createApp({ db });
  const DOCUMENT = `query Eval($q: String!) {
    searchPapers(query: $q, first: 20) { edges { score node { number title issue { slug } } } }
  }`;
  interface Ranked {
    q: Query;
    keys: string[];
    /** The API's score of each of `keys` (printed by --audit). */
    scoreOf: number[];
    error: string | null;
    scores: Scores & { mrrGrade: 1 | 2 };
  }
  const results: Ranked[] = [];
  const queryStart = performance.now();
  for (const q of testSet.queries) {
    const response = await app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: DOCUMENT, variables: { q: q.query } }),
    });
    const body = (await response.json()) as {
      data?: {
        searchPapers?: { edges: { score: number; node: { number: string; issue: { slug: string } } }[] } | null;
      };
      errors?: { message: string }[];
    };
    const edges = body.data?.searchPapers?.edges ?? [];
    const keys = edges.map((e) => `${e.node.issue.slug}/${e.node.number}`);
    const error = body.errors?.map((e) => e.message).join('; ') ?? (response.ok ? null : `HTTP ${response.status}`);
    results.push({ q, keys, scoreOf: edges.map((e) => e.score), error, scores: score(q, keys) });
  }
  const querySeconds = (performance.now() - queryStart) / 1000;

  // -------------------------------------------------------------------------
  // Report
  // -------------------------------------------------------------------------

  const gradeMark = (q: Query, key: string) => (q.judgments[key] === undefined ? '·' : String(q.judgments[key]));
  const showTop = (r: Ranked, n: number) => {
    for (const [i, key] of r.keys.slice(0, n).entries()) {
      console.log(
        `      ${String(i + 1).padStart(2)}. [${gradeMark(r.q, key)}] ${key.padEnd(17)} ${(r.scoreOf[i] ?? 0).toFixed(4)} ${titles.get(key)}`,
      );
    }
    if (r.keys.length === 0) console.log('      (no results)');
  };

  console.log(
    `\nArchive: ${titles.size} papers (${testSet.background.editions * testSet.background.papersPerIssue} generated, the sample edition, ${editionFiles.length} hand-written editions), loaded in ${loadSeconds.toFixed(1)} s.`,
  );
  console.log('nDCG@10: gain 2^grade − 1, ideal from the judgments. MRR: rank of the first grade-2 paper when the');
  console.log('query has one (marked ²), else of the first grade-1 paper (¹). recall@20: judged papers found in 20.\n');
  const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
  console.log(`${pad('kind', 15)} ${pad('query', 44)} nDCG@10    MRR    R@20  hits`);
  for (const r of results) {
    const mark = r.scores.mrrGrade === 2 ? '²' : '¹';
    console.log(
      `${pad(r.q.kind, 15)} ${pad(r.q.query, 44)} ${f3(r.scores.ndcg10).padStart(7)}  ${f3(r.scores.mrr)}${mark} ${f3(r.scores.recall20).padStart(6)}  ${String(r.keys.length).padStart(4)}${r.error ? `  ERROR: ${r.error}` : ''}`,
    );
  }

  const byKind = KINDS.map((kind) => {
    const rows = results.filter((r) => r.q.kind === kind);
    return { kind, n: rows.length, ...averages(rows.map((r) => r.scores)) };
  }).filter((k) => k.n > 0);
  const overall = averages(results.map((r) => r.scores));
  console.log(`\n${pad('kind', 15)} queries nDCG@10    MRR   R@20`);
  for (const k of byKind) {
    console.log(
      `${pad(k.kind, 15)} ${String(k.n).padStart(7)} ${f3(k.ndcg10).padStart(7)}  ${f3(k.mrr)} ${f3(k.recall20)}`,
    );
  }
  console.log(
    `${pad('overall', 15)} ${String(results.length).padStart(7)} ${f3(overall.ndcg10).padStart(7)}  ${f3(overall.mrr)} ${f3(overall.recall20)}`,
  );

  const weak = results.filter((r) => r.scores.ndcg10 < WEAK);
  if (weak.length > 0) {
    console.log(
      `\nQueries with nDCG@10 < ${WEAK}: top 5 ([grade], · = not judged), then the wanted papers missing from the 20:`,
    );
    for (const r of weak) {
      console.log(`\n  ${r.q.kind}: ${JSON.stringify(r.q.query)}  nDCG@10 ${f3(r.scores.ndcg10)}  — ${r.q.intent}`);
      showTop(r, 5);
      const missing = Object.entries(r.q.judgments).filter(([key]) => !r.keys.includes(key));
      for (const [key, grade] of missing) console.log(`       missing [${grade}] ${key.padEnd(17)} ${titles.get(key)}`);
    }
  }
  if (args.has('--audit')) {
    console.log('\nAudit: top 10 of every query');
    for (const r of results) {
      console.log(`\n  ${r.q.kind}: ${JSON.stringify(r.q.query)}`);
      showTop(r, 10);
    }
  }
  const totalSeconds = (performance.now() - started) / 1000;
  console.log(
    `\n${results.length} queries in ${querySeconds.toFixed(1)} s; whole run ${totalSeconds.toFixed(1)} s (${handle.kind}).`,
  );

  if (!args.has('--no-report')) {
    const kindRows = byKind
      .map((k) => `| ${k.kind} | ${k.n} | ${f3(k.ndcg10)} | ${f3(k.mrr)} | ${f3(k.recall20)} |`)
      .join('\n');
    writeSection(
      'search-relevance',
      `## Search relevance (\`npm run eval:search\`)

${results.length} queries with graded judgments written by hand (tests/relevance/queries.json), run through
\`searchPapers(first: 20)\` over an archive of ${titles.size} papers: ${editionFiles.length} hand-written editions, the sample edition and
${testSet.background.editions * testSet.background.papersPerIssue} generated papers (seed ${testSet.background.seed}). nDCG@10 with gains 2^grade − 1; MRR of the first
grade-2 paper (grade 1 when a query has none); recall@20 of every judged paper. Means over queries.

| kind | queries | nDCG@10 | MRR | recall@20 |
| --- | --- | --- | --- | --- |
${kindRows}
| **overall** | ${results.length} | **${f3(overall.ndcg10)}** | **${f3(overall.mrr)}** | **${f3(overall.recall20)}** |

Queries under nDCG@10 ${WEAK}: ${weak.map((r) => `\`${r.q.query}\``).join(', ') || 'none'}.

Machine: ${machineLine()}. Database: ${handle.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'}; whole run ${totalSeconds.toFixed(0)} s.`,
    );
  }

  const figures = {
    ndcg10: Number(f3(overall.ndcg10)),
    mrr: Number(f3(overall.mrr)),
    recall20: Number(f3(overall.recall20)),
    queries: results.length,
    perKind: Object.fromEntries(byKind.map((k) => [k.kind, Number(f3(k.ndcg10))])),
    measured: new Date().toISOString().slice(0, 10),
  };
  if (args.has('--update')) {
    writeFileSync(BASELINE_FILE, `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`Baseline written: ${path.relative(root, BASELINE_FILE)} (nDCG@10 ${f3(overall.ndcg10)}).`);
  }
  if (args.has('--check')) {
    const baseline = JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as { ndcg10: number };
    const floor = baseline.ndcg10 - TOLERANCE;
    if (overall.ndcg10 < floor) {
      console.error(
        `FAIL: overall nDCG@10 ${f3(overall.ndcg10)} is more than ${TOLERANCE} below the baseline ${f3(baseline.ndcg10)}.`,
      );
      exitCode = 1;
    } else {
      console.log(`OK: overall nDCG@10 ${f3(overall.ndcg10)} (baseline ${f3(baseline.ndcg10)}, floor ${f3(floor)}).`);
    }
  }
} finally {
  await handle.destroy();
}
process.exit(exitCode);
