/**
 * Where a search's time goes in PostgreSQL (issue 17): the shipped server
 * (`node dist/server.js`, production settings, uncached) over a private
 * PostgreSQL 15 started with pg_stat_statements preloaded (the extension is
 * created in the benchmark database only; the machine's shared server is never
 * touched), loaded with the benchmark data (`npm run bench:data`, 10 400
 * papers). The benchmark's search (Q3, with highlights) and the same search
 * without `matches` are sent sequentially; pg_stat_statements then gives each
 * statement's mean execution and planning time and buffers, and the parts of
 * the statement are timed alone (EXPLAIN (ANALYZE, BUFFERS) and repeated
 * runs) to show what each costs: the candidates with each way of excluding
 * drafts, ranking, headlines.
 *
 *   npx tsx bench/search-sql.ts [--requests 300]
 *
 * Writes the section `search-sql` of BENCHMARKS.md. Needs /usr/lib/postgresql/15/bin
 * and the `postgres` OS user (as the fault tests do).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { privatePgAvailable, startPrivatePg } from '../tests/faults/private-pg.js';
import { SHIPPED_ENV } from './processes.js';
import { machineLine, median, writeSection } from './report.js';

const { values } = parseArgs({ strict: false, options: { requests: { type: 'string', default: '300' } } });
const REQUESTS = Number(values.requests);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PAPERS = 10_400;
const PORT = 4195;
const log = (msg: string) => console.error(msg);

const SEARCH_WITH_MATCHES =
  '{ searchPapers(query: "reward model", first: 20) { edges { node { title issue { title } } matches { field highlights { start end } } } } }';
const SEARCH_WITHOUT_MATCHES =
  '{ searchPapers(query: "reward model", first: 20) { edges { node { title issue { title } } } } }';

/** The candidate set of a search as the server builds it (text mode, 400 most recent matches), with a visibility clause. */
const candidates = (visibility: string) => `SELECT p.id FROM papers p
  WHERE p.search_vector @@ websearch_to_tsquery('english', 'reward model') ${visibility}
  ORDER BY p.week_start DESC, p.issue_id DESC, p.section_number ASC, p.position ASC LIMIT 400`;
const PARTS: Array<[string, string]> = [
  [
    'index only: count of the matches (GIN)',
    `SELECT count(*) FROM papers p WHERE p.search_vector @@ websearch_to_tsquery('english', 'reward model')`,
  ],
  ['candidates, no visibility clause', `SELECT count(*) FROM (${candidates('')}) c`],
  [
    "candidates, drafts excluded by a lookup of each row's edition (before)",
    `SELECT count(*) FROM (${candidates(`AND (SELECT vi.status FROM issues vi WHERE vi.id = p.issue_id) <> 'draft'`)}) c`,
  ],
  [
    'candidates, drafts excluded against their ids read once (now)',
    `SELECT count(*) FROM (${candidates(`AND p.issue_id <> ALL (ARRAY(SELECT vi.id FROM issues vi WHERE vi.status = 'draft'))`)}) c`,
  ],
  [
    'candidates ranked (ts_rank over 400)',
    `SELECT max(ts_rank(p.search_vector, websearch_to_tsquery('english', 'reward model'))) FROM (${candidates('')}) c JOIN papers p ON p.id = c.id`,
  ],
  [
    'headlines of 21 results (title and summary)',
    `SELECT max(length(ts_headline('english', p.title, q, 'HighlightAll=true')) + length(ts_headline('english', p.summary, q, 'MaxFragments=2, MaxWords=30, MinWords=12')))
     FROM (SELECT id FROM papers ORDER BY id LIMIT 21) x JOIN papers p ON p.id = x.id, websearch_to_tsquery('english', 'reward model') q`,
  ],
];

async function timeStatement(client: pg.Client, text: string, runs: number): Promise<number> {
  for (let i = 0; i < 5; i++) await client.query(text);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await client.query(text);
    times.push(performance.now() - t);
  }
  return median(times);
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server not ready in 60 s');
}

async function main() {
  if (!privatePgAvailable) throw new Error('needs PostgreSQL 15 binaries and the postgres OS user');
  const started = performance.now();
  const pgInstance = await startPrivatePg({
    shared_preload_libraries: 'pg_stat_statements',
    'pg_stat_statements.track': 'all',
    'pg_stat_statements.track_planning': 'on',
    shared_buffers: '128MB',
  });
  let server: ChildProcess | undefined;
  try {
    const dbUrl = await pgInstance.createDatabase('bench_search_sql');
    log(`private PostgreSQL on ${pgInstance.port}; loading ${PAPERS} papers …`);
    execFileSync(
      path.join(root, 'node_modules', '.bin', 'tsx'),
      [path.join(root, 'src', 'cli', 'bench-data.ts'), '--papers', String(PAPERS), '--fresh'],
      { cwd: root, stdio: 'inherit', env: { ...process.env, DATABASE_URL: dbUrl } },
    );
    server = spawn(process.execPath, ['dist/server.js'], {
      cwd: root,
      stdio: 'ignore',
      env: {
        ...process.env,
        ...SHIPPED_ENV,
        DATABASE_URL: dbUrl,
        LOG_LEVEL: 'warn',
        PORT: String(PORT),
      },
    });
    await waitReady(`http://127.0.0.1:${PORT}/readyz`, server);
    const client = await pgInstance.admin('bench_search_sql');
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await client.query('ANALYZE');

    const send = async (query: string) => {
      const res = await fetch(`http://127.0.0.1:${PORT}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      const body = (await res.json()) as { errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
    };
    const rows: string[] = [];
    /** Mean execution ms of the search statement, per variant. */
    const searchMs: number[] = [];
    for (const [label, query] of [
      ["with matches (the benchmark's Q3)", SEARCH_WITH_MATCHES],
      ['without matches', SEARCH_WITHOUT_MATCHES],
    ] as const) {
      for (let i = 0; i < 20; i++) await send(query);
      await client.query('SELECT pg_stat_statements_reset()');
      for (let i = 0; i < REQUESTS; i++) await send(query);
      const stats = await client.query<{
        query: string;
        calls: string;
        exec: number;
        plan: number;
        hit: string;
        rows: string;
      }>(`SELECT query, calls, mean_exec_time AS exec, mean_plan_time AS plan,
            (shared_blks_hit + shared_blks_read) / calls AS hit, rows / calls AS rows
          FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND query NOT ILIKE '%pg_stat_statements%' AND calls >= ${REQUESTS / 2}
          ORDER BY total_exec_time DESC LIMIT 4`);
      const search = stats.rows.find((r) => r.query.includes('websearch_to_tsquery'));
      searchMs.push(Number(search?.exec ?? Number.NaN));
      for (const s of stats.rows) {
        const text = s.query.replace(/\s+/g, ' ').slice(0, 90).replace(/\|/g, '\\|');
        rows.push(
          `| ${label} | \`${text}…\` | ${s.calls} | ${Number(s.exec).toFixed(2)} | ${Number(s.plan).toFixed(2)} | ${s.hit} | ${s.rows} |`,
        );
      }
    }

    const parts: string[] = [];
    const partMs: number[] = [];
    for (const [label, text] of PARTS) {
      const ms = await timeStatement(client, text, 100);
      partMs.push(ms);
      parts.push(`| ${label} | ${ms.toFixed(2)} |`);
      log(`${label}: ${ms.toFixed(2)} ms`);
    }
    const explain = async (visibility: string) =>
      (
        await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ${candidates(visibility)}`)
      ).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
    const before = await explain(`AND (SELECT vi.status FROM issues vi WHERE vi.id = p.issue_id) <> 'draft'`);
    const now = await explain(`AND p.issue_id <> ALL (ARRAY(SELECT vi.id FROM issues vi WHERE vi.status = 'draft'))`);
    await client.end();

    const minutes = ((performance.now() - started) / 60_000).toFixed(1);
    writeSection(
      'search-sql',
      `## Where a search's time goes in PostgreSQL (\`bench/search-sql.ts\`)

The shipped server (\`node dist/server.js\`, \`NODE_ENV=production\`, \`RESPONSE_CACHE=off\`) over a private PostgreSQL 15
with pg_stat_statements (preloaded there, the extension created in the benchmark database only), ${PAPERS} generated papers
(\`npm run bench:data\`). ${REQUESTS} sequential requests per variant of \`searchPapers(query: "reward model", first: 20)\`
after 20 warm-up requests; pg_stat_statements reset in between.

| request | statement | calls | mean exec ms | mean plan ms | buffers/call | rows/call |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Parts of the search statement alone (median of 100 runs, one client, ms):

| part | ms |
| --- | --- |
${parts.join('\n')}

What this shows. Finding the matches is cheap (the GIN index: ${partMs[0]!.toFixed(1)} ms); the cost is per row.
\`ts_headline\` over the page's titles and summaries is the largest part of the statement: with \`matches\` it took
${searchMs[0]!.toFixed(1)} ms, without ${searchMs[1]!.toFixed(1)} ms, so it is now computed only when the client selects
\`matches\`. Excluding drafts by a primary-key lookup of each matching row's edition (a correlated subquery: 3 buffers for
every match, and a cost estimate that made the planner read every match and sort them) took the candidates from
${partMs[1]!.toFixed(1)} to ${partMs[2]!.toFixed(1)} ms; the server now reads the drafts' ids once per statement (partial index
\`issues_drafts_idx\`) and checks each row against that array (${partMs[3]!.toFixed(1)} ms): the planner estimates it as passing
nearly every row, and walks the archive order until it has its candidates (plans below). Ranking the 400 candidates
(\`ts_rank\` reads each one's search vector) is the rest, and is what relevance costs.

Candidates, before (EXPLAIN ANALYZE, BUFFERS):

\`\`\`
${before}
\`\`\`

Candidates, now:

\`\`\`
${now}
\`\`\`

Machine: ${machineLine()}. Whole run ${minutes} min.`,
    );
    log(`wrote the search-sql section of BENCHMARKS.md (${minutes} min)`);
  } finally {
    server?.kill('SIGTERM');
    pgInstance.destroy();
  }
}

await main();
