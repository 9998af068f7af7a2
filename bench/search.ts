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
 *   npx tsx bench/search.ts [--dbs bench_10k,bench_100k,bench_1m] [--runs 15]
 */
import { parseArgs } from 'node:util';
import { type SQL, sql } from 'drizzle-orm';
import pg from 'pg';
import { createApp } from '../src/app.js';
import { type DbHandle, createDb } from '../src/db/client.js';
import { BENCH_RARE_TERMS } from '../src/db/generate.js';
import { searchFacetsSql, searchPageSql, relatedPapersSql } from '../src/db/queries/search.js';
import { selectRows } from '../src/db/queries/util.js';
import { encodeCursor, paperCursor } from '../src/graphql/pagination.js';
import { machineLine, median, percentile, writeSection } from './report.js';

const { values } = parseArgs({
  options: {
    dbs: { type: 'string', default: 'bench_10k,bench_100k,bench_1m' },
    runs: { type: 'string', default: '15' },
  },
});
const RUNS = Number(values.runs);
const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const vis = { drafts: false };

const QUERIES: Record<string, string[]> = {
  common: ['reward model', 'reasoning', 'distillation', 'quantization', 'hallucination'],
  rare: BENCH_RARE_TERMS.slice(0, 5).map((t, i) => (i % 2 ? t : `${t} model`)),
  phrase: ['"chain of thought"', '"mixture of experts"', '"reward model"', '"speculative decoding"', '"tree of thoughts"'],
  typo: ['Llama Nemotorn', 'Qwne3', 'DeepSek-R1', 'Mixtrl', 'Gemmma'],
};

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs `fn` over the inputs round-robin (after one warm-up pass), RUNS times in all; returns ms. */
async function measure<T>(inputs: T[], fn: (input: T) => Promise<unknown>): Promise<number[]> {
  for (const i of inputs) await fn(i);
  const out: number[] = [];
  for (let r = 0; r < RUNS; r++) out.push(await time(() => fn(inputs[r % inputs.length]!)));
  return out;
}

const fmt = (ms: number[]) => `${median(ms).toFixed(1)} / ${percentile(ms, 95).toFixed(1)}`;

/** Plan node names (with their relation/index) of EXPLAIN (ANALYZE, BUFFERS), and the execution time. */
async function planNodes(handle: DbHandle, statement: SQL): Promise<string> {
  const rows = await selectRows<Record<string, string>>(handle.db, sql`EXPLAIN (ANALYZE, BUFFERS) ${statement}`);
  const lines = rows.map((r) => Object.values(r)[0]!);
  const nodes = new Set<string>();
  for (const l of lines) {
    const m = /^\s*(?:->\s*)?([A-Z][^(]*?)\s+\(cost/.exec(l);
    if (m) nodes.add(m[1]!.replace(/ (?:p|p_\d+|vi|src)$/, ''));
  }
  const exec = lines.find((l) => l.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '?';
  return `${[...nodes].filter((n) => /papers|Index|Bitmap|Seq Scan/.test(n)).join(', ')} — ${exec}`;
}

interface DbResult {
  name: string;
  papers: number;
  rows: string[];
  plans: string[];
}

async function benchDatabase(name: string): Promise<DbResult | null> {
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  let handle: DbHandle;
  try {
    handle = await createDb({ url: url.toString() });
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
  const SEARCH = `query($q: String!, $o: SearchOrder) { searchPapers(query: $q, first: 20, orderBy: $o) { edges { score node { id title } matches { field fragment highlights { start end } } } } }`;
  const SEARCH_COUNT = `query($q: String!, $o: SearchOrder) { searchPapers(query: $q, first: 20, orderBy: $o) { totalCount facets { category { slug } count } edges { score node { id title } matches { field fragment highlights { start end } } } } }`;

  for (const [kind, queries] of Object.entries(QUERIES)) {
    const mode = kind === 'typo' ? 'fuzzy' : 'text';
    const [{ hits } = { hits: 0 }] = await selectRows<{ hits: number }>(
      handle.db,
      sql`SELECT round(avg(c))::int AS hits FROM (SELECT (SELECT count(*) FROM papers p WHERE p.search_vector @@ websearch_to_tsquery('english', q)) AS c FROM unnest(ARRAY[${sql.join(queries.map((q) => sql`${q}::text`), sql`, `)}]) q) s`,
    );
    for (const order of ['RELEVANCE', 'NEWEST'] as const) {
      const sqlMs = await measure(queries, (q) =>
        handle.db.execute(searchPageSql({ query: q, order, mode, cursor: null, limit: 21 }, vis)),
      );
      const gqlMs = await measure(queries, (q) => gql(SEARCH, { q, o: order }));
      const countMs = await measure(queries, (q) => gql(SEARCH_COUNT, { q, o: order }));
      rows.push(`| ${kind} | ${order} | ${kind === 'typo' ? '(title trigrams)' : hits} | ${fmt(sqlMs)} | ${fmt(gqlMs)} | ${fmt(countMs)} |`);
      console.error(`  ${kind} ${order}: sql ${fmt(sqlMs)} gql ${fmt(gqlMs)} +count ${fmt(countMs)}`);
    }
    plans.push(`- ${kind}, RELEVANCE page (\`${queries[0]}\`): ${await planNodes(handle, searchPageSql({ query: queries[0]!, order: 'RELEVANCE', mode, cursor: null, limit: 21 }, vis))}`);
    plans.push(`- ${kind}, NEWEST page (\`${queries[0]}\`): ${await planNodes(handle, searchPageSql({ query: queries[0]!, order: 'NEWEST', mode, cursor: null, limit: 21 }, vis))}`);
    plans.push(`- ${kind}, facets/totalCount (\`${queries[0]}\`): ${await planNodes(handle, searchFacetsSql({ query: queries[0]!, mode }, vis))}`);
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
  rows.push(`| Query.papers page ${depth} deep | archive order | — | | ${fmt(pageDeep)} (× ${(median(pageDeep) / median(page1)).toFixed(2)} of page 1) | |`);
  console.error(`  papers page1 ${fmt(page1)} deep ${fmt(pageDeep)}`);

  // Paper.related for random papers.
  const ids = await selectRows<{ id: number }>(handle.db, sql`SELECT id FROM papers WHERE id % 997 = 1 ORDER BY id LIMIT 20`);
  const relatedMs = await measure(
    ids.map((r) => Number(r.id)),
    (id) => handle.db.execute(relatedPapersSql([id], 5, vis)),
  );
  const batchMs = await measure([ids.map((r) => Number(r.id))], (batch) => handle.db.execute(relatedPapersSql(batch, 5, vis)));
  rows.push(`| Paper.related(first: 5), 1 paper | — | — | ${fmt(relatedMs)} | | |`);
  rows.push(`| Paper.related(first: 5), 20 papers in one statement | — | — | ${fmt(batchMs)} | | |`);
  plans.push(`- related (paper ${ids[0]?.id}): ${await planNodes(handle, relatedPapersSql([Number(ids[0]!.id)], 5, vis))}`);
  console.error(`  related ${fmt(relatedMs)} batch ${fmt(batchMs)}`);

  await handle.close();
  return { name, papers, rows, plans };
}

const versionClient = new pg.Client({ connectionString: BASE_URL });
await versionClient.connect();
const pgVersion = (await versionClient.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
await versionClient.end();

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

writeSection(
  'search',
  `## Search and discovery (\`bench/search.ts\`)

Databases filled by \`npm run bench:data -- --papers N --fresh\` (about 20 papers a week over 12 categories, summaries of
150–250 words from a Zipf-distributed vocabulary). Times in milliseconds, p50 / p95 over ${RUNS} runs after a warm-up
pass, cycling over 5 queries per kind: **SQL** = the page statement of \`searchPapers\` (first: 20) timed in Node
around the call (localhost round trip included); **GraphQL** = the whole request through \`app.fetch\` in process
(parse, validate, the statements, highlights), without and with \`totalCount\` + \`facets\` (one more statement).
Targets: search p95 < 50 ms at 1 M papers; a page 50 000 deep ≤ 1.2 × page 1.

${sections.join('\n\n')}

Machine: ${machineLine()}. PostgreSQL ${pgVersion.split(' ')[0]} on 127.0.0.1 (shared_buffers 128 MB, default settings).`,
);
console.error('wrote BENCHMARKS.md (search)');
