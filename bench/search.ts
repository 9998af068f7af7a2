/**
 * Search and discovery at scale, on PostgreSQL databases filled by
 * `npm run bench:data` (default: bench_10k, bench_100k, bench_1m on the
 * server of DATABASE_URL; a database that does not exist or is empty is
 * skipped). For each: p50/p95 of
 *
 * - the SQL of one page of `searchPapers` (20 results, RELEVANCE and NEWEST)
 *   for common, rare, phrase and typo queries, timed in Node around the
 *   statement (localhost round trip included, no GraphQL);
 * - the same search through GraphQL in process (`app.fetch`: parse, validate,
 *   execute, highlights), with and without `totalCount` + `facets`;
 * - `Query.papers` page 1 vs a page 50 000 deep (keyset cursor), GraphQL;
 * - `Paper.related(first: 5)`, SQL;
 *
 * and EXPLAIN (ANALYZE, BUFFERS) of each statement, reduced to its plan nodes.
 *
 *   npx tsx bench/search.ts [--dbs bench_10k,bench_100k,bench_1m] [--runs 15] [--kinds typo,phrase]
 *
 * --kinds measures only those kinds of query (and nothing else) and prints
 * the figures without writing BENCHMARKS.md.
 */
import { parseSearchQuery } from '../src/search/query.js';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type SQL, sql } from 'drizzle-orm';
import pg from 'pg';
import { createApp } from '../src/app.js';
import { type DbHandle, createDb } from '../src/db/client.js';
import {
  EXACT_COUNT_BOUND,
  EXACT_RANK_BOUND,
  FUZZY_CANDIDATES,
  RELATED_CANDIDATES,
  RELEVANCE_CANDIDATES,
  relatedPapersSql,
  fewMatches,
  relevanceWindow,
  searchFacetsSql,
  searchPage,
  searchPageSql,
} from '../src/db/queries/search.js';
import { selectRows } from '../src/db/queries/util.js';
import { encodeCursor, paperCursor } from '../src/graphql/pagination.js';
import { machineLine, median, percentile, writeSection } from './report.js';

const { values } = parseArgs({
  options: {
    dbs: { type: 'string', default: 'bench_10k,bench_100k,bench_1m' },
    runs: { type: 'string', default: '15' },
    kinds: { type: 'string' },
  },
});
const KINDS = values.kinds?.split(',').map((k) => k.trim());
const RUNS = Number(values.runs);
const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const vis = { drafts: false };

const QUERIES: Record<string, string[]> = {
  common: ['reward model', 'reasoning', 'distillation', 'quantization', 'hallucination'],
  // Title heads with a serial ("Orion-417: …"): about 30 papers per million in every generated archive. (The
  // BENCH_RARE_TERMS of databases generated before the generator fix match ~1 % of papers, see "medium".)
  rare: ['Orion-417', 'Atlas-12 model', 'Vega-731', 'Helix-250 reasoning', 'Zephyr-88'],
  // The tail of the Zipf vocabulary: 1–3 % of papers, the worst case for "newest N matches" (neither few
  // enough for the GIN index alone nor common enough for a short walk of the archive order).
  medium: ['copyright', 'licensing', 'memorization', 'unlearning', 'watermarking'],
  phrase: [
    '"chain of thought"',
    '"mixture of experts"',
    '"reward model"',
    '"speculative decoding"',
    '"tree of thoughts"',
  ],
  typo: ['Llama Nemotorn', 'Qwne3', 'DeepSek-R1', 'Mixtrl', 'Gemmma'],
};

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs `fn` over the inputs round-robin (after one warm-up pass), RUNS times in all; returns ms. */
async function measure<T>(inputs: T[], fn: (input: T) => Promise<unknown>, runs = RUNS): Promise<number[]> {
  for (const i of inputs) await fn(i);
  const out: number[] = [];
  for (let r = 0; r < runs; r++) out.push(await time(() => fn(inputs[r % inputs.length]!)));
  return out;
}

/** Runs of the exact totalCount + facets variant (it counts every match: seconds at 1 M, so fewer runs). */
const COUNT_RUNS = Math.min(RUNS, 10);

const fmt = (ms: number[]) => `${median(ms).toFixed(1)} / ${percentile(ms, 95).toFixed(1)}`;

/** Plan node names (with their relation/index) of EXPLAIN (ANALYZE, BUFFERS), and the execution time. */
async function planNodes(handle: DbHandle, statement: SQL): Promise<string> {
  const rows = await selectRows<Record<string, string>>(handle.db, sql`EXPLAIN (ANALYZE, BUFFERS) ${statement}`);
  const lines = rows.map((r) => Object.values(r)[0]!);
  const nodes = new Set<string>();
  for (const l of lines) {
    const m = /^\s*(?:->\s*)?([A-Z][^(]*?)\s+\(cost/.exec(l);
    if (m) nodes.add(m[1]!.replace(/ (?:p|p_\d+|vi|vi_\d+|src)$/, ''));
  }
  const exec = lines.find((l) => l.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '?';
  return `${[...nodes].filter((n) => /papers|Index|Bitmap|Seq Scan/.test(n)).join(', ')} — ${exec}`;
}

interface DbResult {
  name: string;
  papers: number;
  rows: string[];
  plans: string[];
  /** p95 in ms by key ("common RELEVANCE sql", "related 1", …), for the findings. */
  p95: Map<string, number>;
  seqScans: string[];
  deepRatio: number;
}

async function benchDatabase(name: string): Promise<DbResult | null> {
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  let handle: DbHandle;
  try {
    // Exact counts of common words take seconds at 1 M papers: above the server default statement timeout.
    handle = await createDb({ url: url.toString(), statementTimeoutMs: 120_000 });
    await handle.db.execute(sql`SELECT 1 FROM papers LIMIT 1`);
  } catch {
    console.error(`${name}: not available, skipped`);
    return null;
  }
  const [{ n } = { n: 0 }] = await selectRows<{ n: number }>(handle.db, sql`SELECT count(*)::int AS n FROM papers`);
  if (Number(n) === 0) {
    await handle.close();
    return null;
  }
  const papers = Number(n);
  console.error(`${name}: ${papers} papers`);
  const app = createApp({ db: handle.db });
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await app.fetch('http://bench/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body;
  };
  const rows: string[] = [];
  const plans: string[] = [];
  const p95 = new Map<string, number>();
  const seqScans: string[] = [];
  const plan = async (label: string, statement: SQL) => {
    const text = await planNodes(handle, statement);
    if (/Seq Scan on papers/.test(text)) seqScans.push(label);
    plans.push(`- ${label}: ${text}`);
  };
  const SEARCH = `query($q: String!, $o: SearchOrder) { searchPapers(query: $q, first: 20, orderBy: $o) { edges { score node { id title } matches { field fragment highlights { start end } } } } }`;
  const SEARCH_COUNT = `query($q: String!, $o: SearchOrder) { searchPapers(query: $q, first: 20, orderBy: $o) { totalCount facets { category { slug } count } edges { score node { id title } matches { field fragment highlights { start end } } } } }`;

  for (const [kind, queries] of Object.entries(QUERIES)) {
    if (KINDS && !KINDS.includes(kind)) continue;
    const mode = kind === 'typo' ? 'fuzzy' : 'text';
    const [{ hits } = { hits: 0 }] = await selectRows<{ hits: number }>(
      handle.db,
      sql`SELECT round(avg(c))::int AS hits FROM (SELECT (SELECT count(*) FROM papers p WHERE p.search_vector @@ websearch_to_tsquery('english', q)) AS c FROM unnest(ARRAY[${sql.join(
        queries.map((q) => sql`${q}::text`),
        sql`, `,
      )}]) q) s`,
    );
    for (const order of ['RELEVANCE', 'NEWEST'] as const) {
      // As the API runs it: RELEVANCE in text mode first estimates its window (its statements are timed too).
      const sqlMs = await measure(queries, async (q) => {
        const window =
          order === 'RELEVANCE' && mode === 'text'
            ? await relevanceWindow(handle.db, { terms: parseSearchQuery(q) })
            : null;
        const few =
          order === 'NEWEST' && mode === 'text' ? await fewMatches(handle.db, { terms: parseSearchQuery(q) }) : false;
        return searchPage(
          handle.db,
          { terms: parseSearchQuery(q), order, mode, cursor: null, limit: 21, window, few },
          vis,
        );
      });
      const gqlMs = await measure(queries, (q) => gql(SEARCH, { q, o: order }));
      // A count over the statement timeout is an error: recorded as its time, the table says so.
      let timeouts = 0;
      const countMs = await measure(
        queries,
        (q) => gql(SEARCH_COUNT, { q, o: order }).catch(() => void timeouts++),
        COUNT_RUNS,
      );
      rows.push(
        `| ${kind} | ${order} | ${kind === 'typo' ? '(title trigrams)' : hits} | ${fmt(sqlMs)} | ${fmt(gqlMs)} | ${fmt(countMs)}${timeouts ? ` (${timeouts} errors: statement timeout)` : ''} |`,
      );
      p95.set(`${kind} ${order} sql`, percentile(sqlMs, 95));
      p95.set(`${kind} ${order} gql`, percentile(gqlMs, 95));
      p95.set(`${kind} ${order} count`, percentile(countMs, 95));
      console.error(`  ${kind} ${order}: sql ${fmt(sqlMs)} gql ${fmt(gqlMs)} +count ${fmt(countMs)}`);
    }
    const window = mode === 'text' ? await relevanceWindow(handle.db, { terms: parseSearchQuery(queries[0]!) }) : null;
    await plan(
      `${kind}, RELEVANCE page (\`${queries[0]}\`${window ? `, window from ${window.since}${window.walk ? ', walked' : ''}` : ''})`,
      searchPageSql(
        { terms: parseSearchQuery(queries[0]!), order: 'RELEVANCE', mode, cursor: null, limit: 21, window },
        vis,
      ),
    );
    await plan(
      `${kind}, NEWEST page (\`${queries[0]}\`)`,
      searchPageSql({ terms: parseSearchQuery(queries[0]!), order: 'NEWEST', mode, cursor: null, limit: 21 }, vis),
    );
    await plan(
      `${kind}, facets/totalCount (\`${queries[0]}\`)`,
      searchFacetsSql({ terms: parseSearchQuery(queries[0]!), mode }, vis),
    );
  }

  if (KINDS) {
    await handle.close();
    return { name, papers, rows, plans, p95, seqScans, deepRatio: NaN };
  }
  // Deep keyset page vs page 1 on Query.papers.
  const depth = Math.min(50_000, Math.floor(papers / 2));
  const [deep] = await selectRows<{ week: string; issueId: number; sectionNumber: number; position: number }>(
    handle.db,
    sql`SELECT week_start::text AS week, issue_id AS "issueId", section_number AS "sectionNumber", position FROM papers
        ORDER BY week_start DESC, issue_id DESC, section_number, position OFFSET ${depth - 1} LIMIT 1`,
  );
  const cursor = encodeCursor(paperCursor, [deep!.week, Number(deep!.issueId), deep!.sectionNumber, deep!.position]);
  const PAGE = `query($after: String) { papers(first: 20, after: $after) { edges { cursor node { id number title issue { slug } } } } }`;
  const page1 = await measure([null], (after) => gql(PAGE, { after }));
  const pageDeep = await measure([cursor], (after) => gql(PAGE, { after }));
  rows.push(`| Query.papers page 1 | archive order | — | | ${fmt(page1)} | |`);
  rows.push(
    `| Query.papers page ${depth} deep | archive order | — | | ${fmt(pageDeep)} (× ${(median(pageDeep) / median(page1)).toFixed(2)} of page 1) | |`,
  );
  console.error(`  papers page1 ${fmt(page1)} deep ${fmt(pageDeep)}`);

  // Paper.related for random papers.
  const ids = await selectRows<{ id: number }>(
    handle.db,
    sql`SELECT id FROM papers WHERE id % 997 = 1 ORDER BY id LIMIT 20`,
  );
  const relatedMs = await measure(
    ids.map((r) => Number(r.id)),
    (id) => handle.db.execute(relatedPapersSql([id], 5, vis)),
  );
  const batchMs = await measure([ids.map((r) => Number(r.id))], (batch) =>
    handle.db.execute(relatedPapersSql(batch, 5, vis)),
  );
  rows.push(`| Paper.related(first: 5), 1 paper | — | — | ${fmt(relatedMs)} | | |`);
  rows.push(`| Paper.related(first: 5), 20 papers in one statement | — | — | ${fmt(batchMs)} | | |`);
  await plan(`related (paper ${ids[0]?.id})`, relatedPapersSql([Number(ids[0]!.id)], 5, vis));
  p95.set('related 1', percentile(relatedMs, 95));
  p95.set('related 20', percentile(batchMs, 95));
  console.error(`  related ${fmt(relatedMs)} batch ${fmt(batchMs)}`);

  await handle.close();
  return { name, papers, rows, plans, p95, seqScans, deepRatio: median(pageDeep) / median(page1) };
}

const versionClient = new pg.Client({ connectionString: BASE_URL });
await versionClient.connect();
const pgVersion = (await versionClient.query<{ server_version: string }>('SHOW server_version')).rows[0]!
  .server_version;
await versionClient.end();

const loadBefore = os.loadavg()[0]!;
const results: DbResult[] = [];
for (const name of values.dbs.split(',')) {
  const r = await benchDatabase(name.trim());
  if (r) results.push(r);
}

const sections = results.map(
  (r) => `### ${r.papers.toLocaleString('en')} papers (\`${r.name}\`)

| what | order | avg matches | SQL p50 / p95 ms | GraphQL p50 / p95 ms | GraphQL + totalCount + facets p50 / p95 ms |
| --- | --- | --- | --- | --- | --- |
${r.rows.join('\n')}

Plans (EXPLAIN ANALYZE, BUFFERS; nodes touching papers, then execution time):

${r.plans.join('\n')}`,
);

/** Findings from the figures of the largest database (generated, so that `npm run bench` keeps them true). */
function findings(): string {
  const big = results[results.length - 1];
  if (!big) return '';
  const ok = (ms: number | undefined) => (ms !== undefined && ms < 50 ? 'met' : '**missed**');
  const f = (ms: number | undefined) => (ms === undefined ? '?' : ms.toFixed(1));
  const kinds = Object.keys(QUERIES);
  const lines = kinds.map((k) => {
    const sqlP = big.p95.get(`${k} RELEVANCE sql`);
    const gqlP = big.p95.get(`${k} RELEVANCE gql`);
    return `${k}: SQL p95 ${f(sqlP)} ms (${ok(sqlP)}), GraphQL p95 ${f(gqlP)} ms (${ok(gqlP)})`;
  });
  const newest = kinds.map((k) => `${k} ${f(big.p95.get(`${k} NEWEST gql`))}`).join(', ');
  const counts = kinds.map((k) => `${k} ${f(big.p95.get(`${k} RELEVANCE count`))}`).join(', ');
  const missed = kinds.filter((k) => !((big.p95.get(`${k} RELEVANCE gql`) ?? Infinity) < 50));
  return `**Findings (generated from the figures above, ${big.papers.toLocaleString('en')} papers):**

- RELEVANCE page, target p95 < 50 ms — ${lines.join('; ')}. NEWEST GraphQL p95: ${newest} ms.
  ${missed.length === 0 ? 'Every kind meets the target.' : `Missed for: ${missed.join(', ')}.`}
- RELEVANCE ranks every match when a search has at most ${EXACT_RANK_BOUND.toLocaleString('en')} (\`exhaustive: true\`), in
  steps (src/search/papers.ts, \`rankedPage\`): first the matches whose title holds the query's words (through
  \`papers_title_vector_idx\`, when the estimate is at most 10 000): when their best scores fill the page above what any
  other match can score, the page is exact without reading the others; else every match is scored. Above the bound
  (estimated from the statistics, phrases and hyphenated words by their rarest word), the bounded approximation: the
  ${RELEVANCE_CANDIDATES} most recent matches (archive order, the plan of NEWEST; for queries between ${3 * RELEVANCE_CANDIDATES} matches and 10 % of the archive
  only in the recent editions expected to hold twice that many, \`relevanceWindow\`), \`exhaustive: false\`. The **SQL**
  column times that approximation's statement; the GraphQL columns run the whole choice. Exact ranking reads every
  match it scores: at a million papers, ~5–7 µs a match, so a search needing all of 30 000 matches costs ~200 ms
  (\`search-random\` below measures queries nobody tuned for).
- Typo tolerance ranks the text matches plus at most ${FUZZY_CANDIDATES} titles similar to the words, in the order the
  trigram index yields them (not the most similar of all); \`Paper.related\` ranks at most ${RELATED_CANDIDATES} papers
  sharing pairs of the paper's rarest terms (document frequency ≤ 2 %), also in index order: related p95
  ${f(big.p95.get('related 1'))} ms for one paper (${ok(big.p95.get('related 1'))}), ${f(big.p95.get('related 20'))} ms for 20 papers in one statement.
- The API's connections run with PostgreSQL's JIT off (\`createDb\`): every statement here is bounded, and LLVM
  compilation, which PostgreSQL starts from its cost estimates, cost more than it saved (20–30 ms of a typo search).
- Draft visibility is a primary-key lookup of the edition per candidate (SubPlan on \`issues_pkey\`), no longer a hash
  join on a full scan of \`issues\`.
- \`totalCount\`/\`facets\` (one statement, only when asked for) count at most ${EXACT_COUNT_BOUND.toLocaleString('en')} matches; above, the total is the
  planner's estimate and the facets are scaled to it (\`totalCountIsExact: false\`). GraphQL with them, RELEVANCE p95: ${counts} ms.
- Keyset depth: \`Query.papers\` page 50 000 deep = ${big.deepRatio.toFixed(2)} × page 1 (${big.deepRatio <= 1.2 ? 'met' : '**missed**'}).
- Sequential scans of papers in the plans above: ${results.flatMap((r) => r.seqScans.map((x) => `${r.name}: ${x}`)).join('; ') || 'none'}.`;
}

if (KINDS) {
  for (const r of results) console.log(`${r.name}\n${r.rows.join('\n')}\n${r.plans.join('\n')}`);
  process.exit(0);
}
writeSection(
  'search',
  `## Search and discovery (\`bench/search.ts\`)

Databases filled by \`npm run bench:data -- --papers N --fresh\` (about 20 papers a week over 12 categories, summaries of
150–250 words from a Zipf-distributed vocabulary). Times in milliseconds, p50 / p95 over ${RUNS} runs after a warm-up
pass, cycling over 5 queries per kind (rare: title names with a serial, ~30 per million papers; medium: words in 1–3 %): **SQL** = the page statement of \`searchPapers\` (first: 20; RELEVANCE: the bounded approximation's, see below) timed in Node
around the call (localhost round trip included); **GraphQL** = the whole request through \`app.fetch\` in process
(parse, validate, the statements, highlights), without and with \`totalCount\` + \`facets\` (one more statement; ${COUNT_RUNS} runs).
Targets: search p95 < 50 ms at 1 M papers; a page 50 000 deep ≤ 1.2 × page 1.

${sections.join('\n\n')}

${findings()}

Machine: ${machineLine()}; 1-minute load average ${loadBefore.toFixed(1)} at the start and ${os.loadavg()[0]!.toFixed(1)} at the end of the run (other work shares the 2 cores: read p95 as noisy). PostgreSQL ${pgVersion.split(' ')[0]} on 127.0.0.1 (shared_buffers 128 MB, default settings).`,
);
console.error('wrote BENCHMARKS.md (search)');
