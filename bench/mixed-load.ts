/**
 * Mixed load against a real server process on PostgreSQL: 60 s, 50
 * concurrent connections, reads (the latest edition nested, paper pages,
 * category pages) and editor writes (createIssue, addPaper, updatePaper with
 * its version). Every acknowledged write is recorded and checked afterwards;
 * anything but an expected ConflictError (two writers on one "hot" paper) is
 * an unexpected error. Uses a throwaway database bench_mixed_<pid> on the
 * machine's PostgreSQL (DATABASE_URL, default 127.0.0.1:5432) and drops it.
 *
 *   npx tsx bench/mixed-load.ts [--seconds 60] [--connections 50] [--pool 10]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createToken } from '../src/auth/tokens.js';
import { createDb } from '../src/db/client.js';
import { machineLine, percentile, writeSection } from './report.js';

const { values } = parseArgs({
  strict: false, // `npm run bench -- …` passes every bench the same arguments
  options: {
    seconds: { type: 'string', default: '60' },
    connections: { type: 'string', default: '50' },
    pool: { type: 'string', default: '10' },
  },
});
const SECONDS = Number(values.seconds ?? 60);
const CONNECTIONS = Number(values.connections ?? 50);
const POOL = Number(values.pool ?? 10);
const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const Q = {
  latest:
    '{ latestIssue { title sections { number category { name slug } papers { number title arxivId issue { slug } } } } }',
  papers:
    'query($after: String) { papers(first: 20, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { number title issue { slug } category { slug } } } }',
  category:
    'query($slug: String!) { category(slug: $slug) { name paperCount papers(first: 10) { totalCount edges { cursor node { number title issue { slug weekStart } } } } } }',
  createIssue: `mutation($input: CreateIssueInput!) { createIssue(input: $input) { __typename
    ... on CreateIssuePayload { issue { id slug } } ... on UserError { code message } } }`,
  addPaper: `mutation($input: AddPaperInput!) { addPaper(input: $input) { __typename
    ... on AddPaperPayload { paper { id title version } } ... on UserError { code message } } }`,
  updatePaper: `mutation($input: UpdatePaperInput!) { updatePaper(input: $input) { __typename
    ... on UpdatePaperPayload { paper { id title version } } ... on UserError { code message } } }`,
  paperVersion: 'query($id: ID!) { node(id: $id) { ... on Paper { version title } } }',
};
/** Category slugs of the sample edition (read from the database once the server has seeded it). */
let CATEGORIES: string[] = [];

async function startServer(
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    // One client address sends everything: the per-client rate limits would throttle the benchmark itself.
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      RATE_LIMIT_POINTS: '1000000000',
      RATE_LIMIT_IN_FLIGHT: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /GraphQL API on http:\/\/localhost:(\d+)\/graphql/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`server exited:\n${out}`)));
  });
  return { url, child, exited };
}

interface Outcome {
  ms: number;
  ok: boolean;
  data?: any;
  error?: string;
}

const latencies: number[] = [];
const byKind = new Map<string, number>();
const unexpected: string[] = [];
let expectedConflicts = 0;

async function send(
  url: string,
  kind: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<Outcome> {
  const start = performance.now();
  byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as any;
    const ms = performance.now() - start;
    latencies.push(ms);
    if (res.status !== 200 || body.errors) {
      return {
        ms,
        ok: false,
        error: `${kind}: HTTP ${res.status} ${JSON.stringify(body.errors?.[0] ?? body).slice(0, 200)}`,
      };
    }
    return { ms, ok: true, data: body.data };
  } catch (err) {
    const ms = performance.now() - start;
    latencies.push(ms);
    return { ms, ok: false, error: `${kind}: ${String(err)}` };
  }
}

async function main() {
  const dbName = `bench_mixed_${process.pid}`;
  const admin = new pg.Client({ connectionString: BASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(BASE_URL);
  dbUrl.pathname = `/${dbName}`;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const handle = await createDb({ url: dbUrl.toString() });
    await handle.migrate();
    const { token } = await createToken(handle.db, { name: 'bench-mixed', scope: 'editor' });
    await handle.close();
    server = await startServer({ DATABASE_URL: dbUrl.toString(), DB_POOL_MAX: String(POOL) });
    const url = server.url;
    const cats = new pg.Client({ connectionString: dbUrl.toString() });
    await cats.connect();
    CATEGORIES = (await cats.query<{ slug: string }>('SELECT slug FROM categories ORDER BY slug')).rows.map(
      (r) => r.slug,
    );
    await cats.end();
    const auth = { authorization: `Bearer ${token}` };

    // One shared "hot" paper that several workers update concurrently: conflicts are expected there.
    const hotIssue = await send(
      url,
      'createIssue',
      Q.createIssue,
      { input: { slug: 'mixed-hot', title: 'Hot', weekStart: '2030-01-07' } },
      auth,
    );
    const hotIssueId = hotIssue.data.createIssue.issue.id;
    const hotPaper = await send(
      url,
      'addPaper',
      Q.addPaper,
      { input: { issueId: hotIssueId, category: CATEGORIES[0], title: 'Hot paper' } },
      auth,
    );
    const hotPaperId: string = hotPaper.data.addPaper.paper.id;

    const createdIssues = new Map<string, string>(); // slug → id
    const paperTitles = new Map<string, string>(); // paper id → last acknowledged title
    const paperIds = new Map<string, { version: number }>();
    let writesAcknowledged = 2;
    const deadline = Date.now() + SECONDS * 1000;

    const worker = async (w: number) => {
      let n = 0;
      const mine: string[] = []; // my issue ids
      const myPapers: string[] = [];
      let cursor: string | null = null;
      while (Date.now() < deadline) {
        n++;
        const roll = Math.random();
        if (roll < 0.25) {
          const r = await send(url, 'read:latestIssue', Q.latest, {}, {});
          if (!r.ok) unexpected.push(r.error!);
        } else if (roll < 0.5) {
          const r = await send(url, 'read:papers', Q.papers, { after: cursor }, {});
          if (!r.ok) unexpected.push(r.error!);
          else cursor = r.data.papers.pageInfo.hasNextPage ? r.data.papers.pageInfo.endCursor : null;
        } else if (roll < 0.75) {
          const r = await send(url, 'read:category', Q.category, { slug: CATEGORIES[n % CATEGORIES.length] }, {});
          if (!r.ok) unexpected.push(r.error!);
        } else if (roll < 0.8 || mine.length === 0) {
          const slug = `mixed-${w}-${n}`;
          const day = new Date(Date.UTC(2031, 0, 6) + (w * 1000 + n) * 7 * 86_400_000).toISOString().slice(0, 10);
          const r = await send(
            url,
            'write:createIssue',
            Q.createIssue,
            { input: { slug, title: `Mixed ${w}/${n}`, weekStart: day } },
            auth,
          );
          if (!r.ok) unexpected.push(r.error!);
          else if (r.data.createIssue.__typename !== 'CreateIssuePayload')
            unexpected.push(`createIssue: ${JSON.stringify(r.data.createIssue)}`);
          else {
            createdIssues.set(slug, r.data.createIssue.issue.id);
            mine.push(r.data.createIssue.issue.id);
            writesAcknowledged++;
          }
        } else if (roll < 0.9 || myPapers.length === 0) {
          const title = `Paper w${w} n${n}`;
          const issueId = mine[n % mine.length]!;
          const r = await send(
            url,
            'write:addPaper',
            Q.addPaper,
            { input: { issueId, category: CATEGORIES[n % CATEGORIES.length], title, summary: 'Load.' } },
            auth,
          );
          if (!r.ok) unexpected.push(r.error!);
          else if (r.data.addPaper.__typename !== 'AddPaperPayload')
            unexpected.push(`addPaper: ${JSON.stringify(r.data.addPaper)}`);
          else {
            const p = r.data.addPaper.paper;
            paperTitles.set(p.id, p.title);
            paperIds.set(p.id, { version: p.version });
            myPapers.push(p.id);
            writesAcknowledged++;
          }
        } else if (roll < 0.97) {
          // My own paper: I know its version, so no conflict is expected.
          const id = myPapers[n % myPapers.length]!;
          const title = `Paper w${w} n${n} (edited)`;
          const r = await send(
            url,
            'write:updatePaper',
            Q.updatePaper,
            { input: { id, version: paperIds.get(id)!.version, title } },
            auth,
          );
          if (!r.ok) unexpected.push(r.error!);
          else if (r.data.updatePaper.__typename !== 'UpdatePaperPayload')
            unexpected.push(`updatePaper: ${JSON.stringify(r.data.updatePaper)}`);
          else {
            paperTitles.set(id, r.data.updatePaper.paper.title);
            paperIds.set(id, { version: r.data.updatePaper.paper.version });
            writesAcknowledged++;
          }
        } else {
          // The hot paper: read its version, then update; another writer may win in between.
          const read = await send(url, 'read:node', Q.paperVersion, { id: hotPaperId }, auth);
          if (!read.ok) {
            unexpected.push(read.error!);
            continue;
          }
          const r = await send(
            url,
            'write:updatePaper(hot)',
            Q.updatePaper,
            { input: { id: hotPaperId, version: read.data.node.version, title: `Hot w${w} n${n}` } },
            auth,
          );
          if (!r.ok) unexpected.push(r.error!);
          else if (r.data.updatePaper.__typename === 'ConflictError') expectedConflicts++;
          else if (r.data.updatePaper.__typename !== 'UpdatePaperPayload')
            unexpected.push(`updatePaper(hot): ${JSON.stringify(r.data.updatePaper)}`);
          else writesAcknowledged++;
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
    const elapsed = (performance.now() - started) / 1000;
    void hotPaperId;

    // Verify every acknowledged write by reading the database directly.
    const check = new pg.Client({ connectionString: dbUrl.toString() });
    await check.connect();
    const issuesRows = await check.query<{ slug: string }>(`SELECT slug FROM issues WHERE slug LIKE 'mixed-%'`);
    const slugs = new Set(issuesRows.rows.map((r) => r.slug));
    const papersRows = await check.query<{ title: string }>(`SELECT title FROM papers WHERE title LIKE 'Paper w%'`);
    const titles = new Set(papersRows.rows.map((r) => r.title));
    await check.end();
    let verified = 0;
    const missing: string[] = [];
    for (const slug of createdIssues.keys()) slugs.has(slug) ? verified++ : missing.push(`issue ${slug}`);
    for (const [id, title] of paperTitles) titles.has(title) ? verified++ : missing.push(`paper ${id} "${title}"`);

    const requests = latencies.length;
    const reads = [...byKind].filter(([k]) => k.startsWith('read')).reduce((s, [, v]) => s + v, 0);
    const writes = requests - reads;
    const summary = {
      seconds: elapsed.toFixed(1),
      connections: CONNECTIONS,
      pool: POOL,
      requests,
      reads,
      writes,
      rps: (requests / elapsed).toFixed(0),
      p50: percentile(latencies, 50).toFixed(1),
      p99: percentile(latencies, 99).toFixed(1),
      max: Math.max(...latencies).toFixed(0),
      writesAcknowledged,
      checked: createdIssues.size + paperTitles.size,
      verified,
      missing: missing.length,
      expectedConflicts,
      unexpected: unexpected.length,
    };
    console.log(JSON.stringify(summary, null, 2));
    if (unexpected.length) console.log(`first unexpected errors:\n${[...new Set(unexpected)].slice(0, 10).join('\n')}`);
    if (missing.length) console.log(`missing:\n${missing.slice(0, 10).join('\n')}`);

    writeSection(
      'mixed-load',
      `## Mixed load on PostgreSQL (\`bench/mixed-load.ts\`)

${SECONDS} s, ${CONNECTIONS} concurrent connections (plain \`fetch\`, each sending its next request as soon as the previous one answers) against one server process (\`node --import tsx src/server.ts\`, pool of ${POOL}) on the machine's PostgreSQL 15 (a throwaway database). Mix: 75 % reads (the latest edition nested to its papers, 20-paper pages of \`papers\` walked by cursor, category pages), 25 % editor writes (\`createIssue\`, \`addPaper\`, \`updatePaper\` with the version each worker last saw; 3 % of requests update one shared "hot" paper, where a \`ConflictError\` is the expected answer to a stale version).

| requests | req/s | p50 | p99 | max | reads / writes | writes acknowledged | acknowledged writes verified afterwards | expected conflicts | unexpected errors |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| ${requests} | ${summary.rps} | ${summary.p50} ms | ${summary.p99} ms | ${summary.max} ms | ${reads} / ${writes} | ${writesAcknowledged} | ${verified} of ${summary.checked} (issues and papers by their final title; ${missing.length} missing) | ${expectedConflicts} | ${unexpected.length} |

Machine: ${machineLine()}. Client and server share the machine's cores.`,
    );
    if (unexpected.length || missing.length) process.exitCode = 1;
  } finally {
    if (server) {
      server.child.kill('SIGTERM');
      const code = await server.exited;
      if (code !== 0) console.error(`server exited with ${code}`);
    }
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
