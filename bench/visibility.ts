/**
 * `npx tsx bench/visibility.ts [--trials 30]` (also run by `npm run bench`):
 * how long after a write a read of the running server (`npm start`, response
 * cache on and warmed) still returns the old data, per write path and
 * database:
 *
 * - API: an `updateIssue` mutation (from its response);
 * - SQL: a raw `UPDATE` from another client — pg on PostgreSQL, the server's
 *   socket on PGlite (from the COMMIT's acknowledgement);
 * - CLI: `npm run import -- --replace` of an edition (from the command's exit).
 *
 * Each trial reads the edition twice (so that it is cached in both tiers),
 * writes, then reads as fast as it can until the new value appears. PostgreSQL
 * needs DATABASE_URL (a throwaway database is made on its server); Redis is
 * used for the cache when REDIS_URL is set.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { machineLine, median, percentile, writeSection } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  strict: false,
  options: { trials: { type: 'string', default: '30' }, 'no-report': { type: 'boolean', default: false } },
});
const TRIALS = Number(values.trials);
const FIXTURE_ISSUE = path.join(root, 'tests', 'fixtures', 'newsletter', 'clean-edition.txt');
const SLUG = '2031-01-06';

interface Target {
  name: string;
  env: Record<string, string | undefined>;
  sql: () => pg.ClientConfig;
  cleanup: () => void | Promise<void>;
}

async function startServer(env: Record<string, string | undefined>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_POINTS: '100000000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = /http:\/\/localhost:(\d+)\/graphql/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', () => reject(new Error(`server exited:\n${out}`)));
  });
  return { url, child };
}

function cli(script: string, args: string[], env: Record<string, string | undefined>): string {
  return execFileSync(process.execPath, ['scripts/start.mjs', path.join('src', 'cli', script), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

const READ = `{ issue(slug: "${SLUG}") { id version subtitle sections { papers { title } } } }`;

/** Reads that returned old data after the write was acknowledged, per path. */
const stale: Record<string, number> = {};

/**
 * Milliseconds from `wrote` until a read returns what `seen` accepts (reads
 * issued back to back); the reads before it are counted as stale.
 */
async function delayUntil(kind: string, url: string, seen: (issue: any) => boolean, wrote: number): Promise<number> {
  for (;;) {
    const body = await gql(url, READ);
    if (seen(body.data.issue)) return performance.now() - wrote;
    stale[kind] = (stale[kind] ?? 0) + 1;
    if (performance.now() - wrote > 10_000) throw new Error('the write was not seen within 10 s');
  }
}

async function warm(url: string) {
  await gql(url, READ);
  return (await gql(url, READ)).data.issue;
}

async function measure(target: Target) {
  const server = await startServer(target.env);
  const results: Record<string, number[]> = { API: [], SQL: [], CLI: [] };
  try {
    cli('import.ts', [FIXTURE_ISSUE, '--week-start', SLUG, '--publish'], target.env);
    const token = cli(
      'token.ts',
      ['create', '--name', `visibility-${Date.now()}`, '--scope', 'editor'],
      target.env,
    ).trim();
    for (let i = 0; i < TRIALS; i++) {
      // API
      const issue = await warm(server.url);
      const apiValue = `api ${i}`;
      const res = await gql(
        server.url,
        'mutation($input: UpdateIssueInput!) { updateIssue(input: $input) { __typename } }',
        { input: { id: issue.id, version: issue.version, subtitle: apiValue } },
        token,
      );
      if (res.data?.updateIssue?.__typename !== 'UpdateIssuePayload') throw new Error(JSON.stringify(res));
      results.API!.push(
        await delayUntil(`${target.name} API`, server.url, (x) => x.subtitle === apiValue, performance.now()),
      );
      // SQL
      await warm(server.url);
      const client = new pg.Client(target.sql());
      await client.connect();
      const sqlValue = `sql ${i}`;
      await client.query('UPDATE issues SET subtitle = $1 WHERE slug = $2', [sqlValue, SLUG]);
      const committed = performance.now();
      await client.end();
      results.SQL!.push(await delayUntil(`${target.name} SQL`, server.url, (x) => x.subtitle === sqlValue, committed));
    }
    // CLI: each import --replace changes the first paper's title
    const text = readFileSync(FIXTURE_ISSUE, 'utf8');
    const first = /^1\.1\. (.*)$/m.exec(text)![1]!;
    const dir = mkdtempSync(path.join(tmpdir(), 'llmp-visibility-'));
    try {
      for (let i = 0; i < Math.min(TRIALS, 8); i++) {
        await warm(server.url);
        const file = path.join(dir, `e${i}.txt`);
        const title = `${first} (rev ${i})`;
        writeFileSync(file, text.replace(first, title));
        cli('import.ts', [file, '--week-start', SLUG, '--replace'], target.env);
        const exited = performance.now();
        results.CLI!.push(
          await delayUntil(`${target.name} CLI`, server.url, (x) => x.sections[0].papers[0].title === title, exited),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.on('exit', resolve));
  }
  return results;
}

async function pgliteTarget(): Promise<Target> {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-visibility-data-'));
  return {
    name: 'PGlite',
    env: { DATABASE_URL: undefined, REDIS_URL: undefined, DATA_DIR: dir },
    sql: () => ({ host: dir, port: 5432, user: 'postgres', database: 'postgres' }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresTarget(baseUrl: string, redis: boolean): Promise<Target> {
  const name = `visibility_${process.pid}_${redis ? 'r' : 'm'}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    name: redis ? 'PostgreSQL + Redis' : 'PostgreSQL',
    env: { DATABASE_URL: url.toString(), REDIS_URL: redis ? process.env.REDIS_URL : undefined },
    sql: () => ({ connectionString: url.toString() }),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

const targets: Target[] = [await pgliteTarget()];
if (process.env.DATABASE_URL) {
  targets.push(await postgresTarget(process.env.DATABASE_URL, false));
  if (process.env.REDIS_URL) targets.push(await postgresTarget(process.env.DATABASE_URL, true));
}
const rows: string[] = [];
for (const target of targets) {
  try {
    console.error(`== ${target.name}`);
    const results = await measure(target);
    for (const [path_, times] of Object.entries(results)) {
      const f = (v: number) => v.toFixed(1);
      const staleReads = stale[`${target.name} ${path_}`] ?? 0;
      rows.push(
        `| ${target.name} | ${path_} | ${times.length} | ${staleReads} | ${f(median(times))} | ${f(percentile(times, 95))} | ${f(Math.max(...times))} |`,
      );
      console.error(rows.at(-1));
    }
  } finally {
    await target.cleanup();
  }
}

const markdown = `## Visibility of writes from every path (\`bench/visibility.ts\`)

The server as \`npm start\` runs it (response cache on, in memory or in Redis), an edition read twice before each write so
that it is cached in both tiers, then read back to back until the write shows. **Stale reads**: reads issued after
the write was acknowledged (API: the mutation's response; SQL: the \`UPDATE\`'s commit from another client — \`pg\` to
PostgreSQL, the server's socket for PGlite; CLI: \`npm run import -- --replace\` exiting) that still returned the old
data; **ms**: from that acknowledgement until the first read that returned the new data had its answer (so it
includes one uncached read). The database announces each commit (\`NOTIFY llmp_changes\`) and the server drops its
caches on it.

| database | write path | trials | stale reads | ms median | ms p95 | ms max |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Machine: ${machineLine()}.`;
if (!values['no-report']) writeSection('visibility', markdown);
console.log(markdown);
