/**
 * Read performance of what ships, side by side (issues 7 and 17): the production
 * server as a user runs it — `node <start:dist's flags> dist/server.js`, NODE_ENV=production,
 * request logging, metrics and limits on (a rate budget set high through its env variables),
 * uncached (RESPONSE_CACHE=off) and cached (RESPONSE_CACHE=on) — beside PostGraphile v5 over
 * the same tables, on every Node given (by default the machine's and Node 24 LTS from
 * `.ci/node24`), each system its own process on 127.0.0.1, loaded by autocannon with the four
 * read queries Q1–Q4 in alternating rounds.
 *
 *   npx tsx bench/perf.ts [--quick] [--big] [--no-profile] [--node PATH]… [--baseline DIR] [--unnamed]
 *                         [--rounds 3] [--connections 10,50] [--profile-query Q4] [--section perf]
 *
 * The ceiling, "node:http": bench/systems/static.ts, a bare node:http server answering the API's own bytes
 * for each query (no GraphQL, no database): what Node itself reaches on this machine, beside the cached API.
 * --unnamed adds "api (unnamed)": the same server with DB_PREPARED_STATEMENTS=off (what a pooler in
 * transaction mode needs), to measure what named statements save.
 * --baseline DIR adds "api (baseline)": DIR's own dist/server.js (another checkout, built),
 * measured in the same rounds, for before/after comparisons of a change.
 *
 * Data: database bench_perf (520 weekly editions × 20 papers, 12 categories, filled by
 * `npm run bench:data` when missing or of another size); --big uses bench_perf_100k.
 * PostGraphile lives in bench/peers/postgraphile (installed with `npm ci` when missing).
 *
 * Figures: requests/s and p50/p99 (medians over the rounds), server CPU per request
 * (utime+stime from /proc over all rounds ÷ requests), SQL statements per request
 * (PostgreSQL's log with log_statement=all, a separate phase), peak RSS (VmHWM).
 * Then, unless --no-profile, a CPU profile (node --cpu-prof) of the shipped server on the
 * last Node under one query's load, summarised to its top self-time functions.
 * Writes the section `perf` of BENCHMARKS.md. bench/systems/api.mjs (createApp alone) stays
 * as a profiling tool; its figures are not results.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { type System, startDistFlags, startProcess as startIn } from './processes.js';
import { machineLine, median, writeSection } from './report.js';

const { values } = parseArgs({
  strict: false, // `npm run bench -- …` passes every bench the same arguments
  options: {
    quick: { type: 'boolean', default: false },
    big: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    node: { type: 'string', multiple: true },
    baseline: { type: 'string' },
    unnamed: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    'profile-query': { type: 'string', default: 'Q4' },
    section: { type: 'string', default: 'perf' },
  },
});
const QUICK = Boolean(values.quick);
const BIG = Boolean(values.big);
const WARMUP_S = QUICK ? 1 : 3;
const RUN_S = QUICK ? 2 : 5;
const ROUNDS = Number(values.rounds ?? (QUICK ? 1 : 3));
const CONNECTIONS = String(values.connections ?? '10')
  .split(',')
  .map(Number);
const COUNT_REQUESTS = 20;
const PER_WEEK = 20;
const PAPERS = BIG ? 104_000 : 10_400;
const DB_NAME = BIG ? 'bench_perf_100k' : 'bench_perf';
const PG_LOG = process.env.PG_LOG ?? '/var/log/postgresql/postgresql-15-main.log';
const PROFILE_DIR = '/tmp/llmp-perf-profile';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const peerDir = path.join(here, 'peers', 'postgraphile');
const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbUrl = (() => {
  const u = new URL(BASE_URL);
  u.pathname = `/${DB_NAME}`;
  return u.toString();
})();
const log = (msg: string) => console.error(msg);

// ---------------------------------------------------------------- data

async function ensureData(): Promise<string> {
  const admin = new pg.Client({ connectionString: BASE_URL });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME])).rowCount;
  if (!exists) await admin.query(`CREATE DATABASE ${DB_NAME}`);
  await admin.end();

  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  const count = async () => {
    try {
      const r = await client.query<{ papers: number; issues: number }>(
        'SELECT (SELECT count(*) FROM papers)::int AS papers, (SELECT count(*) FROM issues)::int AS issues',
      );
      return r.rows[0]!;
    } catch {
      return { papers: -1, issues: -1 };
    }
  };
  let c = await count();
  const editions = Math.ceil(PAPERS / PER_WEEK);
  if (c.papers !== PAPERS || c.issues !== editions) {
    log(`${DB_NAME}: ${c.papers} papers / ${c.issues} editions, loading ${PAPERS} papers …`);
    execFileSync(
      path.join(root, 'node_modules', '.bin', 'tsx'),
      [
        path.join(root, 'src', 'cli', 'bench-data.ts'),
        '--papers',
        String(PAPERS),
        '--per-week',
        String(PER_WEEK),
        '--fresh',
      ],
      { cwd: root, stdio: 'inherit', env: { ...process.env, DATABASE_URL: dbUrl } },
    );
    c = await count();
    if (c.papers !== PAPERS) throw new Error(`expected ${PAPERS} papers in ${DB_NAME}, found ${c.papers}`);
  } else {
    log(`${DB_NAME}: reusing ${c.papers} papers in ${c.issues} editions`);
  }
  // PostGraphile has no full-text search: it gets one SQL function (its own schema, outside the app's).
  await client.query(`CREATE SCHEMA IF NOT EXISTS bench_peer`);
  await client.query(`CREATE OR REPLACE FUNCTION bench_peer.search_papers(query text) RETURNS SETOF public.papers
    LANGUAGE sql STABLE AS $$
      SELECT p.* FROM public.papers p
      WHERE p.search_vector @@ websearch_to_tsquery('english', query)
        AND EXISTS (SELECT 1 FROM public.issues i WHERE i.id = p.issue_id AND i.status = 'published')
      ORDER BY ts_rank(p.search_vector, websearch_to_tsquery('english', query)) DESC, p.id DESC
    $$`);
  // An edition in the middle of the archive, for Q4.
  const slug = (
    await client.query<{ slug: string }>('SELECT slug FROM issues ORDER BY week_start OFFSET $1 LIMIT 1', [
      Math.floor(editions / 2),
    ])
  ).rows[0]!.slug;
  await client.end();
  return slug;
}

function ensurePeerInstalled(): void {
  if (existsSync(path.join(peerDir, 'node_modules', 'postgraphile', 'package.json'))) return;
  log('installing bench/peers/postgraphile (npm ci) …');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: peerDir, stdio: 'inherit' });
}

// ---------------------------------------------------------------- queries

type QueryName = 'Q1' | 'Q2' | 'Q3' | 'Q4';
const QUERY_NAMES: QueryName[] = ['Q1', 'Q2', 'Q3', 'Q4'];
const QUERY_LABEL: Record<QueryName, string> = {
  Q1: 'Q1 latest 20 editions',
  Q2: 'Q2 category pages',
  Q3: 'Q3 search',
  Q4: 'Q4 one paper',
};

function apiQueries(slug: string): Record<QueryName, string> {
  return {
    Q1: '{ issues(first: 20) { nodes { sections { number category { name } papers { number title } } } } }',
    Q2: '{ categories { name papers(first: 10) { nodes { title issue { title } } } } }',
    // As the issue measures it: no highlights asked (PostGraphile's function has none to give).
    Q3: '{ searchPapers(query: "reward model", first: 20) { edges { node { title issue { title } } } } }',
    Q4: `{ paper(issue: "${slug}", number: "2.3") { title summary category { name } issue { title } } }`,
  };
}

function postgraphileQueries(slug: string): Record<QueryName, string> {
  return {
    Q1: `{ allIssues(first: 20, orderBy: [WEEK_START_DESC, ROW_ID_DESC]) { nodes {
      sectionsByIssueId(orderBy: NUMBER_ASC) { nodes { number categoryByCategoryId { name }
        papersBySectionId(orderBy: POSITION_ASC) { nodes { sectionNumber position title } } } } } } }`,
    // Amber orders only by indexed columns: categories by slug (the same order as by name here).
    Q2: `{ allCategories(orderBy: SLUG_ASC) { nodes { name
      papersByCategoryId(first: 10, orderBy: [WEEK_START_DESC, ISSUE_ID_DESC, SECTION_NUMBER_ASC, POSITION_ASC]) {
        nodes { title issueByIssueId { title } } } } } }`,
    // bench_peer.search_papers: the same match and ts_rank order as ours, no highlights.
    Q3: '{ benchPeerSearchPapers(query: "reward model", first: 20) { nodes { title issueByIssueId { title } } } }',
    Q4: `{ issueBySlug(slug: "${slug}") { title papersByIssueId(condition: { sectionNumber: 2, position: 3 }) {
      nodes { title summary categoryByCategoryId { name } } } } }`,
  };
}

/** Each query as one SQL statement building the whole JSON answer (pgbench: the database limit). */
function sqlStatements(slug: string): Record<QueryName, string> {
  return {
    Q1: `SELECT json_build_object('data', json_build_object('issues', json_build_object('nodes',
  coalesce(json_agg(x.j ORDER BY x.week_start DESC, x.id DESC), '[]')))) FROM (
  SELECT i.id, i.week_start, json_build_object('sections', (
    SELECT coalesce(json_agg(json_build_object('number', s.number, 'category', json_build_object('name', c.name), 'papers', (
      SELECT coalesce(json_agg(json_build_object('number', p.section_number || '.' || p.position, 'title', p.title) ORDER BY p.position), '[]')
      FROM papers p WHERE p.section_id = s.id)) ORDER BY s.number), '[]')
    FROM sections s JOIN categories c ON c.id = s.category_id WHERE s.issue_id = i.id)) AS j
  FROM issues i WHERE i.status = 'published' ORDER BY i.week_start DESC, i.id DESC LIMIT 20) x;`,
    Q2: `SELECT json_build_object('data', json_build_object('categories', json_agg(json_build_object('name', c.name, 'papers',
  json_build_object('nodes', (SELECT coalesce(json_agg(json_build_object('title', t.title, 'issue', json_build_object('title', t.issue_title))), '[]')
    FROM (SELECT p.title, i.title AS issue_title FROM papers p JOIN issues i ON i.id = p.issue_id
          WHERE p.category_id = c.id AND i.status = 'published'
          ORDER BY p.week_start DESC, p.issue_id DESC, p.section_number, p.position LIMIT 10) t))) ORDER BY c.name)))
FROM categories c;`,
    Q3: `SELECT json_build_object('data', json_build_object('searchPapers', json_build_object('edges',
  coalesce(json_agg(json_build_object('node', json_build_object('title', t.title, 'issue', json_build_object('title', t.issue_title)))
    ORDER BY t.score DESC, t.id DESC), '[]')))) FROM (
  SELECT p.id, p.title, i.title AS issue_title, ts_rank(p.search_vector, q) AS score
  FROM papers p JOIN issues i ON i.id = p.issue_id, websearch_to_tsquery('english', 'reward model') q
  WHERE p.search_vector @@ q AND i.status = 'published' ORDER BY score DESC, p.id DESC LIMIT 20) t;`,
    Q4: `SELECT json_build_object('data', json_build_object('paper', json_build_object('title', p.title, 'summary', p.summary,
  'category', json_build_object('name', c.name), 'issue', json_build_object('title', i.title))))
FROM issues i JOIN papers p ON p.issue_id = i.id AND p.section_number = 2 AND p.position = 3 JOIN categories c ON c.id = p.category_id
WHERE i.slug = '${slug.replace(/'/g, "''")}' AND i.status = 'published';`,
  };
}

// ---------------------------------------------------------------- processes

/** The production server of the checkout in `dir` (built), as the README runs it. */
const startApi = (
  name: string,
  node: string,
  port: number,
  opts: {
    dir?: string;
    cache?: boolean;
    logStatements?: boolean;
    cpuProfileDir?: string;
    env?: Record<string, string>;
  } = {},
) => {
  const dir = opts.dir ?? root;
  const url = new URL(dbUrl);
  // node-postgres takes `options` from the URL: every pool connection then logs its statements.
  if (opts.logStatements) url.searchParams.set('options', '-c log_statement=all');
  return startIn(
    tmp,
    name,
    port,
    node,
    [
      ...startDistFlags(dir),
      ...(opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : []),
      'dist/server.js',
    ],
    dir,
    {
      DATABASE_URL: url.toString(),
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      RESPONSE_CACHE: opts.cache ? 'on' : 'off',
      SEED_SAMPLE: 'false',
      // The rate budget high, as a deployment expecting this load would set it: every request is still charged.
      RATE_LIMIT_POINTS: '1000000000',
      RATE_LIMIT_IN_FLIGHT: '1000',
      ...opts.env,
    },
    '/readyz',
  );
};

const startPostgraphile = (node: string, port: number, logStatements = false) =>
  startIn(
    tmp,
    'postgraphile',
    port,
    node,
    ['server.mjs', ...(logStatements ? ['--log-statements'] : [])],
    peerDir,
    { DATABASE_URL: dbUrl, NODE_ENV: 'production', GRAPHILE_ENV: 'production' },
    '/graphql',
  );

async function stop(system: System): Promise<void> {
  system.child.kill('SIGTERM');
  const timer = setTimeout(() => system.child.kill('SIGKILL'), 5_000);
  await system.exited;
  clearTimeout(timer);
}

async function post(
  url: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

async function postOk(url: string, query: string): Promise<unknown> {
  const { status, body } = await post(url, query);
  const json = JSON.parse(body.toString()) as { data?: unknown; errors?: unknown };
  if (status !== 200 || json.errors) throw new Error(`${url}: ${status} ${body.toString().slice(0, 500)}`);
  return json.data;
}

// ---------------------------------------------------------------- /proc

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return Number(fields[11]) + Number(fields[12]);
}
/** utime+stime of every PostgreSQL process (the cluster's backends and helpers) by pid, in ticks. */
function postgresTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      out.set(Number(entry), cpuTicks(Number(entry)));
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}

/** PostgreSQL's CPU between two readings: processes present at both, plus the whole of those that started between. */
function postgresTicksSince(before: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ticks] of postgresTicks()) sum += ticks - (before.get(pid) ?? 0);
  return sum;
}

/** Busy (non-idle, non-iowait) and total ticks of the whole machine, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - (cpu[3] ?? 0) - (cpu[4] ?? 0), total };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

// ---------------------------------------------------------------- statement counting

function logSize(): number {
  return statSync(PG_LOG).size;
}

function readLogFrom(offset: number): string {
  const size = logSize();
  if (size <= offset) return '';
  const fd = openSync(PG_LOG, 'r');
  const buf = Buffer.alloc(size - offset);
  readSync(fd, buf, 0, buf.length, offset);
  closeSync(fd);
  return buf.toString('utf8');
}

/** `log_line_prefix = '%m [%p] %q%u@%d '`: a logged statement is `… user@db LOG:  statement: …` or `… LOG:  execute <name>: …`. */
function countStatements(text: string): number {
  const re = new RegExp(`@${DB_NAME} LOG:  (statement|execute [^:]*):`, 'g');
  return [...text.matchAll(re)].length;
}

async function countPerRequest(system: System, query: string): Promise<number> {
  for (let i = 0; i < 2; i++) await postOk(system.url, query); // warm (plans, caches) before counting
  await new Promise((r) => setTimeout(r, 200));
  const offset = logSize();
  for (let i = 0; i < COUNT_REQUESTS; i++) await postOk(system.url, query);
  await new Promise((r) => setTimeout(r, 500));
  return countStatements(readLogFrom(offset)) / COUNT_REQUESTS;
}

// ---------------------------------------------------------------- load

function pgbench(file: string, clients: number): { tps: number; latencyMs: number } {
  const u = new URL(dbUrl);
  const out = execFileSync(
    'pgbench',
    [
      '-n',
      '-f',
      file,
      '-c',
      String(clients),
      '-j',
      '2',
      '-T',
      String(RUN_S),
      '-h',
      u.hostname,
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username || 'postgres'),
      DB_NAME,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
  const lat = /latency average = ([\d.]+) ms/.exec(out);
  if (!tps) throw new Error(`pgbench output not understood:\n${out}`);
  return { tps: Number(tps[1]), latencyMs: lat ? Number(lat[1]) : Number.NaN };
}

// ---------------------------------------------------------------- result equivalence

/** Every `title` string of a result, depth first: the same papers in the same order across systems. */
function titles(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) titles(v, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === 'title' && typeof v === 'string') out.push(v);
      else titles(v, out);
    }
  return out;
}

// ---------------------------------------------------------------- CPU profile

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function summariseProfile(file: string, top = 15): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const f = byId.get(id)!.callFrame;
    const where = f.url
      ? `${f.url.replace(`file://${root}/`, '').replace(/^.*\/node_modules\//, 'node_modules/')}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const idle = self.get('(idle)') ?? 0;
  self.delete('(idle)');
  const busy = total - idle;
  return [
    `sampled ${(total / 1000).toFixed(0)} ms, of which idle ${(idle / 1000).toFixed(0)} ms; percentages of the ${(busy / 1000).toFixed(0)} ms busy`,
    ...[...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([key, us], i) =>
          `${String(i + 1).padStart(2)}. ${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${key}`,
      ),
  ];
}

// ---------------------------------------------------------------- main

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits));
const version = (dir: string, pkg: string) => {
  try {
    return (
      JSON.parse(readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return '?';
  }
};
const nodeVersion = (node: string) => execFileSync(node, ['-v'], { encoding: 'utf8' }).trim();

/** The Nodes to compare: --node PATH…, else the machine's and Node 24 LTS (.ci/node24: the registry's official build). */
function nodesToRun(): string[] {
  const given = (values.node as string[] | undefined) ?? [];
  if (given.length > 0) return given;
  const nodes = [process.execPath];
  try {
    const n24 = execFileSync(path.join(root, '.ci', 'node24'), { encoding: 'utf8' }).trim();
    if (nodeVersion(n24) !== process.version) nodes.push(n24);
  } catch (err) {
    log(`Node 24 not available (${(err as Error).message}); measuring ${process.version} only`);
  }
  return nodes;
}

const started = performance.now();
if (!existsSync(PG_LOG)) throw new Error(`PostgreSQL log not found at ${PG_LOG} (set PG_LOG)`);
const tmp = path.join('/tmp', `llmp-perf-${process.pid}`);
mkdirSync(tmp, { recursive: true });
const slug = await ensureData();
ensurePeerInstalled();
log('building the API (npm run build) …');
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const BASELINE = values.baseline ? path.resolve(String(values.baseline)) : undefined;
if (BASELINE && !existsSync(path.join(BASELINE, 'dist', 'server.js')))
  throw new Error(`${BASELINE}/dist/server.js missing: build it first`);
const NODES = nodesToRun();
const apiQ = apiQueries(slug);
const pglQ = postgraphileQueries(slug);
const sqlQ = sqlStatements(slug);

type SystemName = 'api' | 'api-cached' | 'api (baseline)' | 'api (unnamed)' | 'node:http' | 'postgraphile';
const UNNAMED = Boolean(values.unnamed);
const SYSTEMS: SystemName[] = [
  'api',
  'api-cached',
  ...(BASELINE ? (['api (baseline)'] as const) : []),
  ...(UNNAMED ? (['api (unnamed)'] as const) : []),
  'node:http',
  'postgraphile',
];
const queriesOf = (s: SystemName) => (s === 'postgraphile' ? pglQ : apiQ);
const PORT: Record<SystemName, number> = {
  api: 4100,
  'api-cached': 4101,
  postgraphile: 4102,
  'api (baseline)': 4103,
  'api (unnamed)': 4104,
  'node:http': 4105,
};
/** The API's answer to each query (written in step 1), which the node:http ceiling replays. */
const answerFile = (q: QueryName) => path.join(tmp, `answer-${q}.json`);
const startCeiling = (node: string, port: number) =>
  startIn(
    tmp,
    'node:http',
    port,
    node,
    [
      '--import',
      'tsx',
      path.join(here, 'systems', 'static.ts'),
      '--port',
      String(port),
      ...QUERY_NAMES.map((q) => `${q}=${answerFile(q)}`),
    ],
    root,
    {},
    '/readyz',
  );
const start = (name: SystemName, node: string, extra: { logStatements?: boolean; cpuProfileDir?: string } = {}) =>
  name === 'postgraphile'
    ? startPostgraphile(node, PORT[name], extra.logStatements)
    : name === 'node:http'
      ? startCeiling(node, PORT[name])
      : startApi(name, node, PORT[name], {
          ...extra,
          cache: name === 'api-cached',
          dir: name === 'api (baseline)' ? BASELINE : root,
          env: name === 'api (unnamed)' ? { DB_PREPARED_STATEMENTS: 'off' } : {},
        });

// 1. SQL statements per request, each system alone with log_statement=all (on the first Node).
const statements: Partial<Record<SystemName, Partial<Record<QueryName, number>>>> = {};
for (const name of SYSTEMS) {
  if (name === 'node:http') continue; // no database
  const system = await start(name, NODES[0]!, { logStatements: true });
  try {
    statements[name] = {};
    for (const q of QUERY_NAMES) statements[name][q] = await countPerRequest(system, queriesOf(name)[q]);
    if (name === 'api')
      for (const q of QUERY_NAMES) writeFileSync(answerFile(q), (await post(system.url, apiQ[q])).body);
    log(`statements per request, ${name}: ${QUERY_NAMES.map((q) => `${q} ${statements[name]![q]}`).join(', ')}`);
  } finally {
    await stop(system);
  }
}
if (Object.values(statements.api ?? {}).every((n) => n === 0))
  throw new Error(`no statements found in ${PG_LOG}: is log_statement honoured?`);

// 2. The database limit: each query as one SQL statement through pgbench (no Node involved).
const dbLimit: Partial<Record<QueryName, { tps: number; latencyMs: number }>> = {};
for (const q of QUERY_NAMES) {
  writeFileSync(path.join(tmp, `${q}.sql`), sqlQ[q]);
  dbLimit[q] = pgbench(path.join(tmp, `${q}.sql`), CONNECTIONS[0]!);
  log(`${q} pgbench: ${fmt(dbLimit[q].tps)} tps`);
}

// 3. Load, per Node: every system up side by side, alternating rounds (each idle while another is measured).
interface Sample {
  rps: number[];
  p50: number[];
  p99: number[];
  ticks: number;
  /** PostgreSQL's CPU (every postgres process) over the measured runs, in ticks. */
  pgTicks: number;
  /** The benchmark's own CPU (autocannon, the load generator) over the measured runs, in µs. */
  loadUs: number;
  /** The whole machine's busy ticks over the measured runs. */
  machineBusy: number;
  requests: number;
  errors: number;
  rssMb: number;
}
type Key = `${string}|${number}|${SystemName}|${QueryName}`;
const samples = new Map<Key, Sample>();
const sameResults: Partial<Record<QueryName, string>> = {};
const nodeLabels: string[] = [];

async function measure(system: System, q: QueryName, query: string, connections: number, into: Sample): Promise<void> {
  const opts = {
    url: system.url,
    method: 'POST' as const,
    // (x-bench-query picks node:http's answer; the others ignore it)
    headers: { 'content-type': 'application/json', 'x-bench-query': q },
    body: JSON.stringify({ query }),
    connections,
    pipelining: 1,
    timeout: 30,
  };
  await autocannon({ ...opts, duration: WARMUP_S });
  const before = cpuTicks(system.pid);
  const pgBefore = postgresTicks();
  const machineBefore = machineTicks();
  const loadBefore = process.cpuUsage();
  const r = await autocannon({ ...opts, duration: RUN_S });
  const load = process.cpuUsage(loadBefore);
  into.loadUs += load.user + load.system;
  into.machineBusy += machineTicks().busy - machineBefore.busy;
  into.pgTicks += postgresTicksSince(pgBefore);
  into.ticks += cpuTicks(system.pid) - before;
  into.requests += r.requests.total;
  into.errors += r.errors + r.timeouts + r.non2xx;
  into.rps.push(r['2xx'] / r.duration);
  into.p50.push(r.latency.p50);
  into.p99.push(r.latency.p99);
  into.rssMb = Math.max(into.rssMb, peakRssMb(system.pid));
}

for (const node of NODES) {
  const label = `Node ${nodeVersion(node).replace(/^v/, '')}`;
  nodeLabels.push(label);
  const running = new Map<SystemName, System>();
  // On this machine the first server process started measured 5-19 % more CPU per request than identical ones
  // started after it (two copies of one build, alternating rounds, either started first; BENCHMARKS.md), and the
  // API is started first: an idle placeholder takes that place and is never measured.
  const placeholder = await startApi('placeholder', node, 4110);
  try {
    for (const name of SYSTEMS) running.set(name, await start(name, node));
    if (nodeLabels.length === 1) {
      for (const q of QUERY_NAMES) {
        const a = titles(await postOk(running.get('api')!.url, apiQ[q]));
        const b = titles(await postOk(running.get('postgraphile')!.url, pglQ[q]));
        const common = a.filter((t) => b.includes(t)).length;
        sameResults[q] =
          a.length > 0 && JSON.stringify(a) === JSON.stringify(b)
            ? 'yes'
            : a.length === b.length && common === a.length
              ? 'same titles, other order'
              : `no: ${common} of ${a.length} titles in common`;
        log(`${q}: results of the API and PostGraphile: ${sameResults[q]}`);
      }
    }
    for (let round = 0; round < ROUNDS; round++)
      for (const connections of CONNECTIONS)
        for (const [qi, q] of QUERY_NAMES.entries()) {
          // rotate the order so that no system always runs first (or last) for a query
          const order = [...SYSTEMS];
          for (let i = 0; i < qi + round; i++) order.push(order.shift()!);
          for (const name of order) {
            const key: Key = `${label}|${connections}|${name}|${q}`;
            const sample = samples.get(key) ?? {
              rps: [],
              p50: [],
              p99: [],
              ticks: 0,
              pgTicks: 0,
              loadUs: 0,
              machineBusy: 0,
              requests: 0,
              errors: 0,
              rssMb: 0,
            };
            samples.set(key, sample);
            await measure(running.get(name)!, q, queriesOf(name)[q], connections, sample);
            log(
              `${label} round ${round + 1} ${connections} conns ${q} ${name}: ${fmt(sample.rps.at(-1))} req/s, p99 ${sample.p99.at(-1)} ms`,
            );
          }
        }
  } finally {
    await Promise.all([...running.values(), placeholder].map(stop));
  }
}

// 4. CPU profile of the shipped server (uncached) on the last Node under one query's load.
let profileTop: string[] = [];
let profileFile = '';
const PROFILE_QUERY = (QUERY_NAMES as string[]).includes(String(values['profile-query']))
  ? (values['profile-query'] as QueryName)
  : 'Q4';
if (!values['no-profile']) {
  rmSync(PROFILE_DIR, { recursive: true, force: true });
  mkdirSync(PROFILE_DIR, { recursive: true });
  const profiled = await start('api', NODES.at(-1)!, { cpuProfileDir: PROFILE_DIR });
  try {
    const opts = {
      url: profiled.url,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: apiQ[PROFILE_QUERY] }),
      connections: 10,
    };
    await autocannon({ ...opts, duration: QUICK ? 3 : 10 });
  } finally {
    await stop(profiled);
  }
  const file = readdirSync(PROFILE_DIR).find((f) => f.endsWith('.cpuprofile'));
  if (file) {
    profileFile = path.join(PROFILE_DIR, file);
    profileTop = summariseProfile(profileFile);
    writeFileSync(path.join(PROFILE_DIR, 'top-self-time.txt'), `${profileTop.join('\n')}\n`);
    log(`CPU profile ${profileFile}, top self time:\n${profileTop.join('\n')}`);
  } else log('no .cpuprofile written');
}
rmSync(tmp, { recursive: true, force: true });

// ---------------------------------------------------------------- report

const fig = (label: string, c: number, s: SystemName, q: QueryName) => {
  const x = samples.get(`${label}|${c}|${s}|${q}`);
  if (!x) return undefined;
  return {
    rps: median(x.rps),
    p50: median(x.p50),
    p99: median(x.p99),
    cpu: x.requests ? (x.ticks * 1000) / CLK_TCK / x.requests : Number.NaN,
    /** PostgreSQL's, the load generator's and the whole machine's CPU per request, ms. */
    pgCpu: x.requests ? (x.pgTicks * 1000) / CLK_TCK / x.requests : Number.NaN,
    loadCpu: x.requests ? x.loadUs / 1000 / x.requests : Number.NaN,
    machineCpu: x.requests ? (x.machineBusy * 1000) / CLK_TCK / x.requests : Number.NaN,
    rss: x.rssMb,
    errors: x.errors,
    runs: x.rps,
  };
};
const C0 = CONNECTIONS[0]!;
const ratio = (a: number | undefined, b: number | undefined, d = 2) => (a && b ? `${fmt(a / b, d)}×` : '—');

const tables = nodeLabels.flatMap((label) =>
  CONNECTIONS.map((c) => {
    const lines = [
      `#### ${label}, ${c} connections`,
      '',
      '| query | system | requests/s (per round) | p50 ms | p99 ms | server CPU ms/request | SQL statements/request | peak RSS MB | errors |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ];
    for (const q of QUERY_NAMES) {
      for (const s of SYSTEMS) {
        const f = fig(label, c, s, q);
        if (!f) continue;
        lines.push(
          `| ${QUERY_LABEL[q]} | ${s} | ${fmt(f.rps)} (${f.runs.map((r) => fmt(r)).join(', ')}) | ${fmt(f.p50)} | ${fmt(f.p99)} | ${fmt(f.cpu, 3)} | ${fmt(statements[s]?.[q], 1)} | ${fmt(f.rss)} | ${f.errors} |`,
        );
      }
    }
    return lines.join('\n');
  }),
);

const ratioRows = nodeLabels.flatMap((label) =>
  QUERY_NAMES.map((q) => {
    const a = fig(label, C0, 'api', q);
    const c = fig(label, C0, 'api-cached', q);
    const p = fig(label, C0, 'postgraphile', q);
    const b = fig(label, C0, 'api (baseline)', q);
    const h = fig(label, C0, 'node:http', q);
    return `| ${label} | ${QUERY_LABEL[q]} | ${ratio(a?.rps, p?.rps)} | ${ratio(a?.cpu, p?.cpu)} | ${fmt(a?.p99)} vs ${fmt(p?.p99)} | ${ratio(c?.rps, p?.rps, 1)} | ${ratio(h?.rps, p?.rps, 1)} | ${ratio(c?.rps, h?.rps)}${
      BASELINE ? ` | ${ratio(a?.rps, b?.rps)}` : ''
    } |`;
  }),
);

// Where the machine's cores go per request, and what that leaves the API's own process at 1.5× PostGraphile's rate.
const CORES = os.cpus().length;
const coreRows = nodeLabels
  .flatMap((label) =>
    QUERY_NAMES.flatMap((q) => {
      const p = fig(label, C0, 'postgraphile', q);
      return (['api', ...(BASELINE ? (['api (baseline)'] as const) : []), 'postgraphile'] as const).map((s) => {
        const f = fig(label, C0, s, q);
        if (!f || !p) return '';
        const rest = f.machineCpu - f.cpu - f.pgCpu - f.loadCpu;
        const busy = (f.machineCpu * f.rps) / (CORES * 1000);
        // Rates are bounded by CORES ÷ (CPU per request) when every core is busy: the server's share at 1.5× PostGraphile
        // is what is left of that after PostgreSQL, the load generator and the rest take theirs.
        const budget = (CORES * 1000) / (1.5 * p.rps) - (f.pgCpu + f.loadCpu + Math.max(rest, 0));
        const ceiling = (CORES * 1000) / (f.pgCpu + f.loadCpu) / p.rps;
        return `| ${label} | ${QUERY_LABEL[q]} | ${s} | ${fmt(f.cpu, 3)} | ${fmt(f.pgCpu, 3)} | ${fmt(f.loadCpu, 3)} | ${fmt(rest, 3)} | ${fmt(f.machineCpu, 3)} | ${fmt(100 * busy)} % | ${
          s === 'postgraphile' ? '— | —' : `${fmt(ceiling, 2)}× | ${fmt(budget, 3)}`
        } |`;
      });
    }),
  )
  .filter(Boolean);

const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
const every = (pred: (q: QueryName) => boolean) => QUERY_NAMES.every(pred);
const targetLines = nodeLabels.flatMap((label) => {
  const r = (q: QueryName) =>
    (fig(label, C0, 'api', q)?.rps ?? 0) / (fig(label, C0, 'postgraphile', q)?.rps ?? Number.POSITIVE_INFINITY);
  const cpu = (q: QueryName) =>
    (fig(label, C0, 'api', q)?.cpu ?? Number.POSITIVE_INFINITY) / (fig(label, C0, 'postgraphile', q)?.cpu ?? 0);
  const p99ok = (q: QueryName) =>
    (fig(label, C0, 'api', q)?.p99 ?? Number.POSITIVE_INFINITY) <= (fig(label, C0, 'postgraphile', q)?.p99 ?? 0);
  const cached = (q: QueryName) =>
    (fig(label, C0, 'api-cached', q)?.rps ?? 0) / (fig(label, C0, 'postgraphile', q)?.rps ?? Number.POSITIVE_INFINITY);
  const lines = [
    `- ${label}: every query ≥ 1.0× PostGraphile requests/s (first milestone): ${met(every((q) => r(q) >= 1))} (${QUERY_NAMES.map((q) => `${q} ${fmt(r(q), 2)}×`).join(', ')})`,
    `- ${label}: every query ≥ 1.5× requests/s, ≤ 0.67× Node CPU per request, p99 no worse: ${met(every((q) => r(q) >= 1.5 && cpu(q) <= 0.67 && p99ok(q)))} (CPU ${QUERY_NAMES.map((q) => `${q} ${fmt(cpu(q), 2)}`).join(', ')})`,
    `- ${label}: cached ≥ 10× PostGraphile on every query: ${met(every((q) => cached(q) >= 10))} (lowest ${fmt(Math.min(...QUERY_NAMES.map(cached)), 1)}×; node:http, the ceiling, ${QUERY_NAMES.map((q) => `${q} ${fmt((fig(label, C0, 'node:http', q)?.rps ?? 0) / (fig(label, C0, 'postgraphile', q)?.rps ?? Number.POSITIVE_INFINITY), 1)}×`).join(', ')})`,
  ];
  if (UNNAMED) {
    const unnamed = (q: QueryName) =>
      (fig(label, C0, 'api (unnamed)', q)?.rps ?? 0) / (fig(label, C0, 'api', q)?.rps ?? Number.POSITIVE_INFINITY);
    lines.push(
      `- ${label}: DB_PREPARED_STATEMENTS=off ÷ on (what a pooler in transaction mode costs): ${QUERY_NAMES.map((q) => `${q} ${fmt(unnamed(q), 2)}×`).join(', ')}`,
    );
  }
  if (BASELINE) {
    const base = (q: QueryName) =>
      (fig(label, C0, 'api', q)?.rps ?? 0) / (fig(label, C0, 'api (baseline)', q)?.rps ?? Number.POSITIVE_INFINITY);
    lines.push(
      `- ${label}: this checkout ≥ 0.95× the baseline on every query: ${met(every((q) => base(q) >= 0.95))} (${QUERY_NAMES.map((q) => `${q} ${fmt(base(q), 2)}×`).join(', ')})`,
    );
  }
  return lines;
});

const minutes = ((performance.now() - started) / 60_000).toFixed(1);
const flags = startDistFlags(root).join(' ');
writeSection(
  String(values.section),
  `## Read performance of the shipped server, side by side (\`bench/perf.ts\`)

\`${DB_NAME}\`: ${PAPERS / PER_WEEK} weekly editions × ${PER_WEEK} papers (${PAPERS} papers, 12 categories), filled by \`npm run bench:data\`.
Each system is its own process on 127.0.0.1, all started with the same Node (after an idle copy of the API, never measured:
the first server process started on this machine measured 5–19 % more CPU per request): **api** = the production server as shipped —
\`node ${flags} dist/server.js\` (\`npm run start:dist\`), \`NODE_ENV=production\`, request logging at \`info\` (to a file),
metrics, rate limits and cost limits on (\`RATE_LIMIT_POINTS=1000000000\`, \`RATE_LIMIT_IN_FLIGHT=1000\`: every request still
charged), \`RESPONSE_CACHE=off\`; **api-cached** = the same with \`RESPONSE_CACHE=on\` (the default); **node:http** = the
ceiling: a bare \`node:http\` server (\`bench/systems/static.ts\`) that reads each request and answers the API's own bytes for
the query, no GraphQL and no database — what any Node server can reach here, a cache hit included;${
    BASELINE
      ? ` **api (baseline)** = the same server built from \`${BASELINE}\` (${(() => {
          try {
            return execFileSync('git', ['-C', BASELINE, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim();
          } catch {
            return '?';
          }
        })()});`
      : ''
  } **postgraphile** = PostGraphile ${version(peerDir, 'postgraphile')} (Amber preset, pool of 10, \`bench/peers/postgraphile\`).
Load: autocannon ${version(root, 'autocannon')} in the benchmark's process (same 2 cores), ${C0} connections, POST with a JSON body; ${ROUNDS} alternating
rounds (the systems' order rotates per query and round), each a ${WARMUP_S} s warm-up then ${RUN_S} s measured; requests/s and
p50/p99 are medians over the rounds (2xx only). Server CPU = utime+stime of the server process over the measured runs ÷ requests.
SQL statements/request: PostgreSQL's log at \`log_statement=all\`, ${COUNT_REQUESTS} sequential requests, a separate phase.
Database limit (each query as one hand-written json_agg statement, \`pgbench -c ${C0}\`): ${QUERY_NAMES.map((q) => `${q} ${fmt(dbLimit[q]?.tps)} tps`).join(', ')}.

Queries: Q1 \`issues(first: 20)\` with sections, categories and papers; Q2 \`categories\` with \`papers(first: 10)\` and each
paper's edition; Q3 \`searchPapers(query: "reward model", first: 20)\` ranked by relevance, no highlights asked (PostGraphile: a SQL function
with the same match and ts_rank order); Q4 \`paper(issue, number: "2.3")\`. Same results as PostGraphile (titles in
order): ${QUERY_NAMES.map((q) => `${q} ${sameResults[q] ?? '—'}`).join('; ')}.

Versions: ${nodeLabels.join(', ')}; graphql-yoga ${version(root, 'graphql-yoga')}, PostGraphile ${version(peerDir, 'postgraphile')}.
Machine: ${machineLine()}. Whole run ${minutes} min${QUICK ? ' (--quick)' : ''}.

### Ratios at ${C0} connections

| Node | query | api ÷ PostGraphile requests/s | api ÷ PostGraphile CPU/request | p99 ms api vs PostGraphile | cached ÷ PostGraphile | node:http ÷ PostGraphile | cached ÷ node:http${BASELINE ? ' | api ÷ baseline' : ''} |
| --- | --- | --- | --- | --- | --- | --- | ---${BASELINE ? ' | ---' : ''} |
${ratioRows.join('\n')}

### Targets

${targetLines.join('\n')}

### Where the ${CORES} cores go, per request (ms of CPU, same runs)

Server = the system's own process; PostgreSQL = every \`postgres\` process of the cluster; load = the benchmark's process
(autocannon); rest = the machine's busy time (\`/proc/stat\`) less those (the other, idle servers, the kernel's other work);
busy = share of the ${CORES} cores in use. **Ceiling** = requests/s if the API's process cost nothing — ${CORES} cores ÷ (its
PostgreSQL + load CPU per request) — ÷ PostGraphile's requests/s; **budget at 1.5×** = the CPU per request the API's process may
use for 1.5× PostGraphile's requests/s with every core busy, after its PostgreSQL, load and rest (negative: unreachable on
this machine however cheap the server, unless PostgreSQL's share per request shrinks).

| Node | query | system | server | PostgreSQL | load | rest | machine | busy | ceiling ÷ PostGraphile | budget at 1.5× |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${coreRows.join('\n')}

### Figures

${tables.join('\n\n')}
${profileTop.length ? `\n### CPU profile: the shipped server on ${nodeLabels.at(-1)}, ${PROFILE_QUERY}, 10 connections (top self time)\n\n\`\`\`\n${profileTop.join('\n')}\n\`\`\`\n` : ''}`,
);
log(`wrote the perf section of BENCHMARKS.md (${minutes} min)`);
if (profileFile) log(`CPU profile: ${profileFile}`);
