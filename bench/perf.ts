/**
 * Read performance side by side (issue 7): this API uncached and with the
 * response cache, PostGraphile v5 over the same tables, the database limit
 * (each query as one hand-written SQL statement through pgbench) and the
 * HTTP limit (a bare node:http server answering the same bytes), each system
 * its own process on 127.0.0.1, loaded by autocannon at 10 and 50
 * connections with the four read queries Q1–Q4.
 *
 *   npx tsx bench/perf.ts [--quick] [--big] [--no-profile]
 *
 * The API runs as production runs it: the compiled build (`npm run build`,
 * done here first) under plain node with the V8 settings the README
 * recommends (bench/systems/api.mjs).
 *
 * Data: database bench_perf (520 weekly editions × 20 papers, 12 categories,
 * filled by `npm run bench:data` when missing or of another size);
 * --big uses bench_perf_100k (5 200 editions, 104 000 papers) instead.
 * PostGraphile lives in bench/peers/postgraphile with its own package.json
 * (installed here with `npm ci` when its node_modules is missing).
 *
 * Figures: requests/s (median of 2 runs after a warm-up), p50/p99 latency,
 * server CPU per request (utime+stime of the server process from /proc),
 * SQL statements per request (counted in PostgreSQL's log during a separate
 * phase in which the system's connections run with log_statement=all), peak
 * RSS (VmHWM, reset before each 50-connection pair of runs). Writes the
 * section `perf` of BENCHMARKS.md. Then, unless --no-profile, records a CPU
 * profile of the uncached API under Q1 load at 10 connections (after a
 * warm-up) to /tmp/llmp-perf-profile/ and prints its top 15 self-time
 * functions (also in top-self-time.txt there).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { machineLine, median, writeSection } from './report.js';

const { values } = parseArgs({
  strict: false, // `npm run bench -- …` passes every bench the same arguments
  options: {
    quick: { type: 'boolean', default: false },
    big: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
  },
});
const QUICK = Boolean(values.quick);
const BIG = Boolean(values.big);
const WARMUP_S = QUICK ? 1 : 3;
const RUN_S = QUICK ? 2 : 5;
const RUNS = 2;
const CONNECTIONS = [10, 50];
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
      [path.join(root, 'src', 'cli', 'bench-data.ts'), '--papers', String(PAPERS), '--per-week', String(PER_WEEK), '--fresh'],
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
  const slug = (await client.query<{ slug: string }>('SELECT slug FROM issues ORDER BY week_start OFFSET $1 LIMIT 1', [Math.floor(editions / 2)]))
    .rows[0]!.slug;
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
    Q3: '{ searchPapers(query: "reward model", first: 20) { edges { node { title issue { title } } matches { field highlights { start end } } } } }',
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

interface System {
  name: string;
  port: number;
  child: ChildProcess;
  pid: number;
  url: string;
  exited: Promise<void>;
}

async function startProcess(name: string, port: number, command: string, args: string[], cwd: string, urlPath = '/graphql'): Promise<System> {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, DATABASE_URL: dbUrl, PORT: String(port), NODE_ENV: 'production', GRAPHILE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening:\n${output}`));
    });
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return { name, port, child, pid: child.pid!, url: `http://127.0.0.1:${port}${urlPath}`, exited };
}

const tsxArgs = (file: string, args: string[]) => ['--import', 'tsx', path.join(here, 'systems', file), ...args];

/** The API runs as production runs it: the compiled build, plain node, the V8 settings the README recommends. */
const API_NODE_FLAGS = ['--max-old-space-size=2048', '--max-semi-space-size=8', '--heap-growing-percent=200'];
const startApi = (port: number, opts: { cache?: boolean; logStatements?: boolean; cpuProfile?: string } = {}) =>
  startProcess(
    opts.cache ? 'api-cached' : 'api',
    port,
    process.execPath,
    [...API_NODE_FLAGS, path.join(here, 'systems', 'api.mjs'),
      '--port',
      String(port),
      ...(opts.cache ? ['--cache'] : []),
      ...(opts.logStatements ? ['--log-statements'] : []),
      ...(opts.cpuProfile ? ['--cpu-prof', opts.cpuProfile] : []),
    ],
    root,
  );

const startPostgraphile = (port: number, logStatements = false) =>
  startProcess('postgraphile', port, process.execPath, ['server.mjs', ...(logStatements ? ['--log-statements'] : [])], peerDir);

const startStatic = (port: number, files: Record<string, string>, adapter = false) =>
  startProcess(
    adapter ? 'adapter-limit' : 'http-limit',
    port,
    process.execPath,
    tsxArgs('static.ts', ['--port', String(port), ...(adapter ? ['--adapter'] : []), ...Object.entries(files).map(([q, f]) => `${q}=${f}`)]),
    root,
    '/',
  );

async function stop(system: System): Promise<void> {
  system.child.kill('SIGTERM');
  const timer = setTimeout(() => system.child.kill('SIGKILL'), 5_000);
  await system.exited;
  clearTimeout(timer);
}

async function post(url: string, query: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
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

function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    /* not permitted: the peak then covers the whole life of the process */
  }
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

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerReq: number;
  rssMb?: number;
  errors: number;
  runs: number[];
}

async function load(system: System, query: string, connections: number, header?: Record<string, string>): Promise<Figures> {
  const opts = {
    url: system.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...header },
    body: JSON.stringify({ query }),
    connections,
    pipelining: 1,
    timeout: 30,
  };
  await autocannon({ ...opts, duration: WARMUP_S });
  if (connections === 50) resetPeakRss(system.pid);
  const rps: number[] = [];
  const p50: number[] = [];
  const p99: number[] = [];
  let ticks = 0;
  let requests = 0;
  let errors = 0;
  for (let i = 0; i < RUNS; i++) {
    const before = cpuTicks(system.pid);
    const r = await autocannon({ ...opts, duration: RUN_S });
    ticks += cpuTicks(system.pid) - before;
    const ok = r['2xx'];
    requests += r.requests.total;
    errors += r.errors + r.timeouts + r.non2xx;
    rps.push(ok / r.duration);
    p50.push(r.latency.p50);
    p99.push(r.latency.p99);
  }
  return {
    rps: median(rps),
    p50: median(p50),
    p99: median(p99),
    cpuMsPerReq: requests ? (ticks * 1000) / CLK_TCK / requests : Number.NaN,
    ...(connections === 50 ? { rssMb: peakRssMb(system.pid) } : {}),
    errors,
    runs: rps,
  };
}

function pgbench(file: string, clients: number): { tps: number; latencyMs: number } {
  const u = new URL(dbUrl);
  const out = execFileSync(
    'pgbench',
    ['-n', '-f', file, '-c', String(clients), '-j', '2', '-T', String(RUN_S), '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'), DB_NAME],
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
    const where = f.url ? `${f.url.replace(`file://${root}/`, '').replace(/^.*\/node_modules\//, 'node_modules/')}:${f.lineNumber + 1}` : '';
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
      .map(([key, us], i) => `${String(i + 1).padStart(2)}. ${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${key}`),
  ];
}

// ---------------------------------------------------------------- main

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits));
const version = (dir: string, pkg: string) => {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
};

const started = performance.now();
if (!existsSync(PG_LOG)) throw new Error(`PostgreSQL log not found at ${PG_LOG} (set PG_LOG)`);
const slug = await ensureData();
ensurePeerInstalled();
log('building the API (npm run build) …');
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const apiQ = apiQueries(slug);
const pglQ = postgraphileQueries(slug);
const sqlQ = sqlStatements(slug);

const PORTS = { api: 4100, cached: 4101, postgraphile: 4102, http: 4103, profile: 4104, adapter: 4105 };
const SYSTEMS = ['api', 'api-cached', 'postgraphile'] as const;
type SystemName = (typeof SYSTEMS)[number];
const queriesOf = (s: SystemName) => (s === 'postgraphile' ? pglQ : apiQ);

// 1. SQL statements per request, each system alone with log_statement=all.
const statements: Record<SystemName, Partial<Record<QueryName, number>>> = { api: {}, 'api-cached': {}, postgraphile: {} };
const sameResults: Partial<Record<QueryName, string>> = {};
for (const name of SYSTEMS) {
  const system =
    name === 'postgraphile' ? await startPostgraphile(PORTS.postgraphile, true) : await startApi(name === 'api' ? PORTS.api : PORTS.cached, { cache: name === 'api-cached', logStatements: true });
  try {
    for (const q of QUERY_NAMES) statements[name][q] = await countPerRequest(system, queriesOf(name)[q]);
    log(`statements per request, ${name}: ${QUERY_NAMES.map((q) => `${q} ${statements[name][q]}`).join(', ')}`);
  } finally {
    await stop(system);
  }
}
if (Object.values(statements.api).every((n) => n === 0)) throw new Error(`no statements found in ${PG_LOG}: is log_statement honoured?`);

// 2. Load, every system up side by side (each idle while another is measured).
const api = await startApi(PORTS.api);
const cached = await startApi(PORTS.cached, { cache: true });
const postgraphile = await startPostgraphile(PORTS.postgraphile);
const tmp = path.join('/tmp', `llmp-perf-${process.pid}`);
mkdirSync(tmp, { recursive: true });
const staticFiles: Record<string, string> = {};
for (const q of QUERY_NAMES) {
  const { status, body } = await post(api.url, apiQ[q]);
  if (status !== 200) throw new Error(`api ${q}: ${status}`);
  staticFiles[q] = path.join(tmp, `${q}.json`);
  writeFileSync(staticFiles[q], body);
}
const httpLimit = await startStatic(PORTS.http, staticFiles);
const adapterLimit = await startStatic(PORTS.adapter, staticFiles, true);
for (const q of QUERY_NAMES) {
  writeFileSync(path.join(tmp, `${q}.sql`), sqlQ[q]);
  const a = titles(await postOk(api.url, apiQ[q]));
  const b = titles(await postOk(postgraphile.url, pglQ[q]));
  const common = a.filter((t) => b.includes(t)).length;
  sameResults[q] =
    a.length > 0 && JSON.stringify(a) === JSON.stringify(b)
      ? 'yes'
      : a.length === b.length && common === a.length
        ? 'same titles, other order'
        : `no: ${common} of ${a.length} titles in common`;
  log(`${q}: results of the API and PostGraphile: ${sameResults[q]}`);
}

type Row = { system: string; query: QueryName; f?: Figures; db?: { tps: number; latencyMs: number }; statements?: number };
const results: Record<number, Row[]> = {};
try {
  for (const connections of CONNECTIONS) {
    results[connections] = [];
    for (const [qi, q] of QUERY_NAMES.entries()) {
      // rotate the order so that no system always runs first (or last) for a query
      const order = [api, cached, postgraphile];
      for (let i = 0; i < qi; i++) order.push(order.shift()!);
      for (const system of order) {
        const name = system === api ? 'api' : system === cached ? 'api-cached' : 'postgraphile';
        const f = await load(system, queriesOf(name)[q], connections);
        results[connections].push({ system: name, query: q, f, statements: statements[name][q] });
        log(`${connections} conns ${q} ${name}: ${fmt(f.rps)} req/s, p50 ${f.p50} ms, p99 ${f.p99} ms, ${fmt(f.cpuMsPerReq, 2)} CPU ms/req${f.rssMb ? `, RSS ${fmt(f.rssMb)} MB` : ''}${f.errors ? `, ${f.errors} errors` : ''}`);
      }
      const db = pgbench(path.join(tmp, `${q}.sql`), connections);
      results[connections].push({ system: 'database limit (pgbench)', query: q, db, statements: 1 });
      log(`${connections} conns ${q} pgbench: ${fmt(db.tps)} tps, ${db.latencyMs} ms avg`);
      for (const [system, name] of [
        [httpLimit, 'HTTP limit (node:http)'],
        [adapterLimit, "adapter limit (Yoga's @whatwg-node/server)"],
      ] as const) {
        const f = await load(system, apiQ[q], connections, { 'x-bench-query': q });
        results[connections].push({ system: name, query: q, f, statements: 0 });
        log(`${connections} conns ${q} ${name}: ${fmt(f.rps)} req/s, p99 ${f.p99} ms, ${fmt(f.cpuMsPerReq, 3)} CPU ms/req`);
      }
    }
  }
} finally {
  await Promise.all([api, cached, postgraphile, httpLimit, adapterLimit].map(stop));
}

// 3. CPU profile of the uncached API under Q1 load.
let profileTop: string[] = [];
let profileFile = '';
if (!values['no-profile']) {
  rmSync(PROFILE_DIR, { recursive: true, force: true });
  mkdirSync(PROFILE_DIR, { recursive: true });
  const profiled = await startApi(PORTS.profile, { cpuProfile: path.join(PROFILE_DIR, 'api-q1.cpuprofile') });
  try {
    const opts = { url: profiled.url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: apiQ.Q1 }), connections: 10 };
    await autocannon({ ...opts, duration: WARMUP_S });
    profiled.child.kill('SIGUSR2'); // start profiling: start-up and warm-up stay out of the profile
    await new Promise((r) => setTimeout(r, 200));
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

const find = (c: number, system: string, q: QueryName) => results[c]!.find((r) => r.system === system && r.query === q);
const rpsOf = (c: number, system: string, q: QueryName) => find(c, system, q)?.f?.rps ?? Number.NaN;

const tables = CONNECTIONS.map((c) => {
  const lines = [
    `### ${c} connections`,
    '',
    '| query | system | requests/s | p50 ms | p99 ms | server CPU ms/request | SQL statements/request | peak RSS MB | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const q of QUERY_NAMES)
    for (const r of results[c]!.filter((x) => x.query === q)) {
      if (r.db) lines.push(`| ${QUERY_LABEL[q]} | ${r.system} | ${fmt(r.db.tps)} tps | avg ${fmt(r.db.latencyMs, 1)} | — | — | 1 | — | — |`);
      else {
        const f = r.f!;
        lines.push(
          `| ${QUERY_LABEL[q]} | ${r.system} | ${fmt(f.rps)} | ${fmt(f.p50)} | ${fmt(f.p99)} | ${fmt(f.cpuMsPerReq, 2)} | ${fmt(r.statements, 1)} | ${fmt(f.rssMb)} | ${f.errors} |`,
        );
      }
    }
  return lines.join('\n');
});

const ratioLines = [
  '| query | uncached ÷ PostGraphile, 10 conns | cached ÷ PostGraphile, 10 conns | uncached ÷ PostGraphile, 50 conns | cached ÷ PostGraphile, 50 conns | same titles as PostGraphile (in order) |',
  '| --- | --- | --- | --- | --- | --- |',
  ...QUERY_NAMES.map((q) => {
    const r = (c: number, s: string) => `${fmt(rpsOf(c, s, q) / rpsOf(c, 'postgraphile', q), 2)}×`;
    return `| ${QUERY_LABEL[q]} | ${r(10, 'api')} | ${r(10, 'api-cached')} | ${r(50, 'api')} | ${r(50, 'api-cached')} | ${sameResults[q] ?? '—'} |`;
  }),
];

const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
const stmtOk = (['Q1', 'Q2'] as const).every((q) => (statements.api[q] ?? Infinity) <= 3);
const parityOk = (['Q1', 'Q2'] as const).every((q) => {
  const a = find(10, 'api', q)?.f;
  const p = find(10, 'postgraphile', q)?.f;
  return !!a && !!p && a.rps >= p.rps && a.p99 <= p.p99;
});
const cachedRatios = CONNECTIONS.flatMap((c) => QUERY_NAMES.map((q) => rpsOf(c, 'api-cached', q) / rpsOf(c, 'postgraphile', q)));
const cacheOk = cachedRatios.every((x) => x >= 5);
const rssValues = QUERY_NAMES.flatMap((q) => ['api', 'api-cached'].map((s) => find(50, s, q)?.f?.rssMb ?? Number.NaN));
const rssMax = Math.max(...rssValues);
const rssOk = rssMax < 250;
const targets = [
  `- SQL statements per request ≤ 3 for Q1 and Q2 (uncached): Q1 ${fmt(statements.api.Q1, 1)}, Q2 ${fmt(statements.api.Q2, 1)} — ${met(stmtOk)}`,
  `- uncached Q1/Q2 ≥ 1.0× PostGraphile requests/s at 10 connections, p99 no worse: ${(['Q1', 'Q2'] as const)
    .map((q) => `${q} ${fmt(rpsOf(10, 'api', q) / rpsOf(10, 'postgraphile', q), 2)}×, p99 ${find(10, 'api', q)?.f?.p99} vs ${find(10, 'postgraphile', q)?.f?.p99} ms`)
    .join('; ')} — ${met(parityOk)}`,
  `- cached ≥ 5× PostGraphile (every query, 10 and 50 connections): lowest ${fmt(Math.min(...cachedRatios), 2)}× — ${met(cacheOk)}${
    cacheOk
      ? ''
      : `; the adapter limit ÷ PostGraphile, for the same queries: ${CONNECTIONS.flatMap((c) =>
          QUERY_NAMES.filter((q) => rpsOf(c, 'api-cached', q) / rpsOf(c, 'postgraphile', q) < 5).map(
            (q) => `${q} at ${c} connections ${fmt(rpsOf(c, "adapter limit (Yoga's @whatwg-node/server)", q) / rpsOf(c, 'postgraphile', q), 2)}×`,
          ),
        ).join(', ')}`
  }`,
  `- peak RSS < 250 MB (this API, uncached and cached, under 50 connections): ${fmt(rssMax)} MB — ${met(rssOk)}`,
];

const minutes = ((performance.now() - started) / 60_000).toFixed(1);
writeSection(
  'perf',
  `## Read performance side by side (\`bench/perf.ts\`)

\`${DB_NAME}\`: ${PAPERS / PER_WEEK} weekly editions × ${PER_WEEK} papers (${PAPERS} papers, 12 categories), filled by \`npm run bench:data\`.
Each system is its own process on 127.0.0.1: **api** = this API as production runs it (\`bench/systems/api.mjs\`: the compiled build
under plain \`node ${API_NODE_FLAGS.join(' ')}\`, createApp, pg pool of 10, limits nobody reaches, no request log);
**api-cached** = the same with the in-memory response cache (TTL 60 s) and its response tier in front of Yoga, as \`src/server.ts\`
runs them (a repeated read is replayed from memory before Yoga's HTTP layer, still charged to the rate limits); **postgraphile** = PostGraphile ${version(peerDir, 'postgraphile')}
(Amber preset, pool of 10, \`bench/peers/postgraphile\`); **database limit** = the query as one hand-written SQL statement
(json_agg) through \`pgbench -n -c N -j 2 -T ${RUN_S}\` (transactions/s, average latency); **HTTP limit** = a bare node:http server
answering the API's bytes for the query; **adapter limit** = the same bytes through @whatwg-node/server's adapter alone (a fetch
Request in, a Response out), the HTTP layer graphql-yoga runs every request through: the floor of any answer from inside Yoga
(the response tier answers before it). Load: autocannon ${version(root, 'autocannon')}, POST with a JSON body, ${WARMUP_S} s warm-up then ${RUNS} runs of
${RUN_S} s; requests/s = median of the runs (2xx only), p50/p99 = median of the runs' percentiles. Server CPU = utime+stime of the
server process over the runs ÷ requests. SQL statements/request = \`statement:\`/\`execute\` lines in PostgreSQL's log for ${COUNT_REQUESTS}
sequential requests, in a separate phase with the system's connections at \`log_statement=all\` (cached: served from the cache).
Peak RSS = VmHWM, reset before the 50-connection runs. autocannon runs in the benchmark's own process on the same 2 cores.

Queries: Q1 \`issues(first: 20)\` with sections, categories and papers (20 editions, 100 sections, 400 papers); Q2 \`categories\` with
\`papers(first: 10)\` and each paper's edition; Q3 \`searchPapers(query: "reward model", first: 20)\` with highlights; Q4
\`paper(issue, number: "2.3")\`. PostGraphile equivalents: \`allIssues\` → \`sectionsByIssueId\` → \`categoryByCategoryId\`,
\`papersBySectionId\`; \`allCategories(orderBy: SLUG_ASC)\` (Amber orders by indexed columns only; the same order as by name
here) → \`papersByCategoryId(first: 10)\`; Q3 through a SQL function \`bench_peer.search_papers(query)\` (PostGraphile has no
full-text search: the same match and ts_rank order, **no highlights**; the SQL statement of the database limit has none
either); Q4 \`issueBySlug\` → \`papersByIssueId(condition: { sectionNumber: 2, position: 3 })\`.

Versions: Node ${process.version}, graphql-yoga ${version(root, 'graphql-yoga')}, PostGraphile ${version(peerDir, 'postgraphile')} (grafserv ${version(peerDir, 'grafserv')}).
Machine: ${machineLine()}. Whole run ${minutes} min${QUICK ? ' (--quick)' : ''}.

${tables.join('\n\n')}

### This API ÷ PostGraphile (requests/s)

${ratioLines.join('\n')}

### Targets

${targets.join('\n')}
`,
);
log(`wrote the perf section of BENCHMARKS.md (${minutes} min)`);
if (profileFile) log(`CPU profile: ${profileFile}`);
