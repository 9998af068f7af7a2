/**
 * Search on queries nobody tuned for: words, pairs, phrases, model names,
 * rare terms and typos drawn at random (seeded) from the generator's own
 * vocabulary (src/fixtures/generate.ts), sent over HTTP to the production
 * server as shipped (`node <start:dist's flags> dist/server.js`, production
 * settings, response cache off) on a database filled by
 * `npm run bench:data -- --papers 1000000 --fresh`. Each query is new to the
 * server; each is asked twice: a page of 20 results with their text matches,
 * then the same with `totalCount`, `totalCountIsExact` and `facets`.
 *
 *   npx tsx bench/search-random.ts [--db bench_1m] [--per-kind 30] [--seed 7] [--node PATH] [--no-report]
 *                                  [--baseline DIR [--baseline-db NAME]] [--section NAME]
 *
 * --baseline DIR: another checkout, built (`npm run build` there), run beside this one as a second
 * server; every query goes to both, in alternating order, and a second table compares them query by
 * query (the machine is too noisy to compare two runs made at different times). --baseline-db: the
 * baseline's database, when a change is in the data's layout too (default: the same database).
 *
 * --prewarm: reads the database's tables and indexes into PostgreSQL's shared buffers first (pg_prewarm, created in
 * that database), so that a query's first sight of its rows is not a read from disk. Meant for a server whose
 * shared_buffers hold the archive, as a production server for an archive this size would be configured (this
 * machine's shared server has 128 MB, and its operating system keeps only ~3 GB of files cached: without it, most
 * first reads of a 1 M-paper archive's rows come from disk). The report gives shared_buffers and whether it was done.
 *
 * VERBOSE=1 prints every query with its times.
 *
 * It builds the checkout first (npm run build). Without --node: Node 24 LTS from .ci/node24. Writes the BENCHMARKS.md
 * section `search-random` unless --no-report.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import pg from 'pg';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_MODEL_NAMES, BENCH_PHRASES, BENCH_RARE_TERMS, BENCH_WORDS, prng } from '../src/fixtures/generate.js';
import { SHIPPED_ENV, startDistFlags, startProcess } from './processes.js';
import { machineLine, percentile, writeSection } from './report.js';

const { values } = parseArgs({
  strict: false, // `npm run bench -- …` passes every bench the same arguments
  options: {
    db: { type: 'string', default: 'bench_1m' },
    'per-kind': { type: 'string', default: '30' },
    seed: { type: 'string', default: '7' },
    node: { type: 'string' },
    port: { type: 'string', default: '4187' },
    'no-report': { type: 'boolean', default: false },
    baseline: { type: 'string' },
    'baseline-db': { type: 'string' },
    section: { type: 'string', default: 'search-random' },
    prewarm: { type: 'boolean', default: false },
  },
});
const PER_KIND = Number(values['per-kind']);
const SEED = Number(values.seed);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node =
  (values.node as string | undefined) ?? execFileSync(path.join(root, '.ci', 'node24'), { encoding: 'utf8' }).trim();
const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
dbUrl.pathname = `/${String(values.db)}`;
{
  // Skipped, as bench/search.ts skips them, when the database is missing or empty.
  const client = new pg.Client({ connectionString: dbUrl.toString() });
  const papers = await client
    .connect()
    .then(() => client.query<{ n: string }>('SELECT count(*)::text AS n FROM papers'))
    .then((r) => Number(r.rows[0]?.n ?? 0))
    .catch(() => 0);
  await client.end().catch(() => {});
  if (papers === 0) {
    console.error(`search-random: database ${String(values.db)} missing or empty (npm run bench:data), skipped`);
    process.exit(0);
  }
}
/** What the report says of the database server: its shared_buffers, the database's size, whether it was prewarmed. */
const pgLine = await (async () => {
  const client = new pg.Client({ connectionString: dbUrl.toString() });
  await client.connect();
  try {
    let prewarmed = 'not prewarmed';
    if (values.prewarm) {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
      const r = await client.query<{ blocks: string }>(
        // the schema's tables and indexes, their TOAST tables and those tables' indexes
        `WITH rels AS (
           SELECT c.oid, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 'm')
         )
         SELECT sum(pg_prewarm(x.oid))::text AS blocks FROM (
           SELECT oid FROM rels
           UNION SELECT reltoastrelid FROM rels WHERE reltoastrelid <> 0
           UNION SELECT i.indexrelid FROM pg_index i JOIN rels ON i.indrelid = rels.reltoastrelid
         ) x`,
      );
      prewarmed = `prewarmed (pg_prewarm: ${Number(r.rows[0]?.blocks ?? 0).toLocaleString('en')} blocks)`;
    }
    const r = await client.query<{ sb: string; size: string; version: string }>(
      `SELECT current_setting('shared_buffers') AS sb, pg_size_pretty(pg_database_size(current_database())) AS size,
              current_setting('server_version') AS version`,
    );
    const row = r.rows[0]!;
    return `PostgreSQL ${row.version} on ${dbUrl.host}: shared_buffers ${row.sb}, database ${row.size}, ${prewarmed}`;
  } finally {
    await client.end();
  }
})();
console.log(pgLine);

const rand = prng(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

/** One edit a reader's fingers make: two letters swapped, one dropped or one doubled (not the first letter). */
function typo(word: string): string {
  const i = 1 + Math.floor(rand() * (word.length - 2));
  const r = rand();
  if (r < 0.4) return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
  if (r < 0.7) return word.slice(0, i) + word.slice(i + 1);
  return word.slice(0, i) + word[i] + word.slice(i);
}

const longWords = BENCH_WORDS.filter((w) => w.length >= 6 && !w.includes('-'));
const KINDS: Record<string, () => string> = {
  word: () => pick(BENCH_WORDS),
  pair: () => `${pick(BENCH_WORDS)} ${pick(BENCH_WORDS)}`,
  phrase: () => `"${pick(BENCH_PHRASES)}"`,
  'phrase + word': () => `"${pick(BENCH_PHRASES)}" ${pick(BENCH_WORDS)}`,
  model: () => (rand() < 0.5 ? pick(BENCH_MODEL_NAMES) : `${pick(BENCH_MODEL_NAMES)} ${pick(BENCH_WORDS)}`),
  rare: () => pick(BENCH_RARE_TERMS),
  'typo (title)': () => typo(pick(BENCH_MODEL_NAMES).replace(/[-.\d]+$/, '')),
  'typo (summary)': () => typo(pick(longWords)),
};

const EDGES = 'edges { score node { id title } matches { field fragment highlights { start end } } }';
const PAGE = `query Search($q: String!) { searchPapers(query: $q, first: 20) { exhaustive relaxed ${EDGES} } }`;
const COUNTED = `query SearchCounted($q: String!) { searchPapers(query: $q, first: 20) {
  exhaustive relaxed totalCount totalCountIsExact facets { count category { slug } } ${EDGES} } }`;

interface Answer {
  ms: number;
  exhaustive: boolean;
  relaxed: boolean;
  exact?: boolean;
  total?: number;
}

async function ask(url: string, query: string, q: string): Promise<Answer> {
  const t = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables: { q } }),
  });
  const body = (await res.json()) as {
    data?: {
      searchPapers: {
        exhaustive: boolean;
        relaxed: boolean;
        totalCount?: number;
        totalCountIsExact?: boolean;
      };
    };
    errors?: unknown;
  };
  const ms = performance.now() - t;
  const r = body.data?.searchPapers;
  if (!r) throw new Error(`${q}: ${res.status} ${JSON.stringify(body.errors)}`);
  return { ms, exhaustive: r.exhaustive, relaxed: r.relaxed, exact: r.totalCountIsExact, total: r.totalCount };
}

// What ships: the build of this checkout.
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const logDir = mkdtempSync(path.join(os.tmpdir(), 'llmp-search-random-'));
const port = Number(values.port);
const server = await startProcess(
  logDir,
  'api',
  port,
  node,
  [...startDistFlags(root), 'dist/server.js'],
  root,
  { ...SHIPPED_ENV, DATABASE_URL: dbUrl.toString(), LOG_LEVEL: 'warn' },
  '/readyz',
);
const baselineDir = values.baseline ? path.resolve(String(values.baseline)) : null;
const baselineDb = new URL(dbUrl);
if (values['baseline-db']) baselineDb.pathname = `/${String(values['baseline-db'])}`;
const baseline = baselineDir
  ? await startProcess(
      logDir,
      'baseline',
      port + 1,
      node,
      [...startDistFlags(baselineDir), 'dist/server.js'],
      baselineDir,
      { ...SHIPPED_ENV, DATABASE_URL: baselineDb.toString(), LOG_LEVEL: 'warn' },
      '/readyz',
    )
  : null;
const baselineCommit = baselineDir
  ? execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: baselineDir, encoding: 'utf8' }).trim()
  : '';
const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
const sideRows: string[] = [];
const sideAll = { page: [] as number[], basePage: [] as number[], ratios: [] as number[] };

const rows: string[] = [];
const all = { page: [] as number[], counted: [] as number[] };
try {
  // Warm-up: the server's first requests (JIT, connections), on queries not measured.
  for (let i = 0; i < 10; i++) {
    const q = `${pick(BENCH_WORDS)} warmup${i}`;
    // (a word found nowhere takes the typo fallback, whose trigram scan can outlast the statement timeout while
    // the archive's rows are still on disk: reported, not fatal, since these are not measured)
    for (const s of baseline ? [server, baseline] : [server])
      await ask(s.url, PAGE, q).catch((e: unknown) => console.error(`warm-up: ${String(e)}`));
  }
  for (const [kind, draw] of Object.entries(KINDS)) {
    const page: number[] = [];
    const counted: number[] = [];
    let exhaustive = 0;
    let relaxed = 0;
    let exact = 0;
    let totals = 0;
    const examples: string[] = [];
    const basePage: number[] = [];
    const baseCounted: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < PER_KIND; i++) {
      const q = draw();
      if (examples.length < 3) examples.push(q);
      // Side by side: the baseline answers the same query, first on every other query.
      const other = async () => {
        if (!baseline) return;
        basePage.push((await ask(baseline.url, PAGE, q)).ms);
        baseCounted.push((await ask(baseline.url, COUNTED, q)).ms);
      };
      if (i % 2 === 1) await other();
      const a = await ask(server.url, PAGE, q);
      const b = await ask(server.url, COUNTED, q);
      if (i % 2 === 0) await other();
      if (baseline) ratios.push(a.ms / basePage[basePage.length - 1]!);
      if (process.env.VERBOSE)
        console.log(
          `  ${q}: page ${a.ms.toFixed(0)} ms (exhaustive ${a.exhaustive}), counted ${b.ms.toFixed(0)} ms, total ${b.total} (exact ${b.exact})`,
        );
      page.push(a.ms);
      counted.push(b.ms);
      exhaustive += a.exhaustive ? 1 : 0;
      relaxed += a.relaxed ? 1 : 0;
      exact += b.exact ? 1 : 0;
      totals += b.total ?? 0;
    }
    all.page.push(...page);
    all.counted.push(...counted);
    const f = (v: number[]) =>
      `${percentile(v, 50).toFixed(1)} / ${percentile(v, 95).toFixed(1)} / ${Math.max(...v).toFixed(0)}`;
    const line = `| ${kind} | ${examples.map((e) => `\`${e}\``).join(', ')} | ${Math.round(totals / PER_KIND).toLocaleString('en')} | ${exhaustive}/${PER_KIND} | ${relaxed}/${PER_KIND} | ${f(page)} | ${f(counted)} | ${exact}/${PER_KIND} |`;
    console.log(line);
    rows.push(line);
    if (baseline) {
      const side = `| ${kind} | ${f(page)} | ${f(basePage)} | ${f(counted)} | ${f(baseCounted)} | ${percentile(ratios, 50).toFixed(2)} |`;
      console.log(side);
      sideRows.push(side);
      sideAll.page.push(...page);
      sideAll.basePage.push(...basePage);
      sideAll.ratios.push(...ratios);
    }
  }
} finally {
  for (const s of [server, baseline]) {
    if (!s) continue;
    s.child.kill('SIGTERM');
    await s.exited;
  }
}
const f = (v: number[]) => `${percentile(v, 50).toFixed(1)} / ${percentile(v, 95).toFixed(1)}`;
const summary = `All ${all.page.length} queries: page p50 / p95 ${f(all.page)} ms; with totalCount + facets ${f(all.counted)} ms.`;
console.log(summary);
const sideSummary = baseline
  ? `All ${sideAll.page.length} queries, page p50 / p95: this checkout ${f(sideAll.page)} ms, ${baselineCommit} ${f(sideAll.basePage)} ms; median of the per-query ratios ${percentile(sideAll.ratios, 50).toFixed(2)}.`
  : '';
if (baseline) console.log(sideSummary);
const sideTable = baseline
  ? `
Side by side with ${baselineCommit} (\`--baseline\`: a second server, on database \`${baselineDb.pathname.slice(1)}\`, every query sent to
both in alternating order). Page and page + totalCount + facets, p50 / p95 / max ms; ratio: median over the queries of this
checkout's page time ÷ the baseline's.

| kind | page, this checkout | page, ${baselineCommit} | + counts, this checkout | + counts, ${baselineCommit} | page ratio |
| --- | --- | --- | --- | --- | --- |
${sideRows.join('\n')}

${sideSummary}
`
  : '';

if (!values['no-report']) {
  writeSection(
    String(values.section),
    `## Search on random queries (\`bench/search-random.ts\`)

${machineLine()}; the production server as shipped (\`dist/server.js\`, start:dist's flags, \`NODE_ENV=production\`,
response cache off) on Node ${nodeVersion}, over HTTP on 127.0.0.1, database \`${String(values.db)}\` (\`npm run bench:data\`).
${pgLine}.
${PER_KIND} queries per kind drawn at random (seed ${SEED}) from the generator's vocabulary, each new to the server,
one at a time: a page of 20 with text matches, then the same with \`totalCount\` + \`totalCountIsExact\` + \`facets\`.
Times in ms, p50 / p95 / max. Targets: page p95 < 50 ms, with totalCount + facets p95 < 200 ms.

| kind | examples | avg totalCount | exhaustive | relaxed | page ms | + totalCount + facets ms | count exact |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

${summary}
${sideTable}`,
  );
}
