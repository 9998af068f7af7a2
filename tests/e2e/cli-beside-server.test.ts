import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayDatabase } from '../helpers/db.js';
import { type RunningServer, startServer } from '../helpers/server.js';
import type { AnyDocument, VariableArgs } from '../helpers/http.js';
import { FIXTURE_ISSUE, eventually, expectIntact, gql, runCli, sqlClient } from './helpers.js';
import { type ResultOf, graphql } from '../graphql.js';

/**
 * Every command a user runs, beside a running server (`npm start`): on PGlite
 * (through the server's database) and on PostgreSQL. Each change must be
 * visible through GraphQL at once — the response cache is on and warmed
 * first — survive a restart, and leave the database intact.
 */
const PAPERS = 5; // papers in FIXTURE_ISSUE
const ISSUE = graphql(
  `query Issue($slug: String!) { issue(slug: $slug) { title subtitle paperCount sections { papers { id number title } } } }`,
);
const ISSUE_COUNT = graphql(`{ issues(first: 100) { totalCount } }`);
const SUBTITLE = graphql(`{ issue(slug: "2031-01-06") { subtitle } }`);
/** How long a test waits for something that must happen (a liveness guard, not a speed requirement). */
const PATIENCE_MS = 30_000;

interface Backend {
  name: string;
  env: Record<string, string | undefined>;
  raw: () => ReturnType<typeof sqlClient>;
  cleanup: () => Promise<void>;
}

async function pgliteBackend(): Promise<Backend> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-e2e-'));
  return {
    name: 'PGlite',
    env: { DATABASE_URL: undefined, REDIS_URL: undefined, DATA_DIR: dataDir },
    raw: () => sqlClient({ dataDir }),
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function postgresBackend(): Promise<Backend> {
  const db = await createThrowawayDatabase(process.env.DATABASE_URL!);
  return {
    name: 'PostgreSQL',
    // Without Redis: rate budgets and cache keys in a shared Redis would mix with other tests' servers.
    env: { DATABASE_URL: db.url, REDIS_URL: undefined },
    raw: () => sqlClient({ url: db.url }),
    cleanup: db.drop,
  };
}

/** Reads twice so that the answer is in the response cache (and its tier) before the write. */
async function warm<D extends AnyDocument>(url: string, document: D, ...args: VariableArgs<D>) {
  await gql(url, document, ...args);
  return gql(url, document, ...args);
}

const backends: [string, () => Promise<Backend>][] = [['PGlite', pgliteBackend]];
if (process.env.DATABASE_URL) backends.push(['PostgreSQL', postgresBackend]);

describe.each(backends)('the CLI beside a running server on %s', (_name, make) => {
  let backend: Backend;
  let server: RunningServer;
  const env = () => backend.env;

  beforeAll(async () => {
    backend = await make();
    server = await startServer({ ...backend.env, LOG_LEVEL: 'warn' });
  }, 120_000);

  afterAll(async () => {
    await server?.stop('SIGTERM');
    await backend?.cleanup();
  });

  it('import (dry run, publish, replace) is seen at once and keeps paper ids', async () => {
    const slug = '2031-01-06';
    expect((await warm(server.url, ISSUE, { slug })).body.data?.issue).toBeNull();

    const dry = await runCli('import.ts', [FIXTURE_ISSUE, '--week-start', slug, '--dry-run'], env());
    expect(dry.code, dry.stderr).toBe(0);
    expect((await gql(server.url, ISSUE, { slug })).body.data?.issue).toBeNull();

    const created = await runCli('import.ts', [FIXTURE_ISSUE, '--week-start', slug, '--publish'], env());
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`created "${slug}"`);
    const seen = (await gql(server.url, ISSUE, { slug })).body.data?.issue;
    if (!seen) throw new Error('the imported edition is not seen');
    expect(seen.paperCount).toBe(PAPERS);

    // --replace with one title fixed: the other papers keep their ids
    const fixed = path.join(tmpdir(), `llmp-e2e-fixed-${process.pid}.txt`);
    const firstTitle = seen.sections[0]!.papers[0]!.title;
    writeFileSync(fixed, readFileSync(FIXTURE_ISSUE, 'utf8').replace(firstTitle, `${firstTitle} (revised)`));
    await warm(server.url, ISSUE, { slug });
    const replaced = await runCli('import.ts', [fixed, '--week-start', slug, '--replace'], env());
    rmSync(fixed);
    expect(replaced.code, replaced.stderr).toBe(0);
    const after = (await gql(server.url, ISSUE, { slug })).body.data?.issue;
    if (!after) throw new Error('the replaced edition is not seen');
    expect(after.sections[0]!.papers[0]!.title).toBe(`${firstTitle} (revised)`);
    const ids = (issue: NonNullable<ResultOf<typeof ISSUE>['issue']>) =>
      issue.sections.flatMap((s) => s.papers.map((p) => p.id));
    expect(ids(after).slice(1)).toEqual(ids(seen).slice(1));

    // a second import of the same week without --replace is refused and changes nothing
    const again = await runCli('import.ts', [FIXTURE_ISSUE, '--week-start', slug], env());
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  }, 120_000);

  it('token create / list / revoke take effect at once', async () => {
    const created = await runCli('token.ts', ['create', '--name', 'e2e-editor', '--scope', 'editor'], env());
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const auth = { authorization: `Bearer ${token}` };
    expect((await gql(server.url, '{ __typename }', undefined, auth)).status).toBe(200);
    const listed = await runCli('token.ts', ['list'], env());
    expect(listed.stdout).toMatch(/^e2e-editor\teditor\tactive/m);
    const revoked = await runCli('token.ts', ['revoke', 'e2e-editor'], env());
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await gql(server.url, '{ __typename }', undefined, auth)).status).toBe(401);
  }, 120_000);

  it('export, db:seed, db:migrate and bench:data work beside it', async () => {
    const exported = await runCli('export.ts', ['2031-01-06'], env());
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^# /);

    const seeded = await runCli('seed.ts', [], env());
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(seeded.stderr).toMatch(/already present/);

    const migrated = await runCli('migrate.ts', [], env());
    expect(migrated.code, migrated.stderr).toBe(0);

    const before = (await warm(server.url, ISSUE_COUNT)).body.data!.issues.totalCount;
    const bench = await runCli('bench-data.ts', ['--papers', '40', '--per-week', '20'], env());
    expect(bench.code, bench.stderr).toBe(0);
    expect((await gql(server.url, ISSUE_COUNT)).body.data?.issues.totalCount).toBe(before + 2);
  }, 180_000);

  // Seen at all, not "within N ms": the delay is the machine's load as much as the code's
  // (tests/change-signal.test.ts measures and prints it).
  it('a raw SQL UPDATE from another client is seen, whatever the cache held', async () => {
    await warm(server.url, SUBTITLE);
    const client = await backend.raw();
    try {
      await client.query(`UPDATE issues SET subtitle = 'changed by hand' WHERE slug = '2031-01-06'`);
    } finally {
      await client.end();
    }
    const { value, afterMs } = await eventually(
      () => gql(server.url, SUBTITLE),
      (r) => r.body.data?.issue?.subtitle === 'changed by hand',
      PATIENCE_MS,
    );
    expect(value.body.data?.issue?.subtitle).toBe('changed by hand');
    expect(afterMs).not.toBeNull();
  }, 60_000);

  it('everything survives a restart and the database is intact', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
    server = await startServer({ ...backend.env, LOG_LEVEL: 'warn' });
    const issue = (await gql(server.url, ISSUE, { slug: '2031-01-06' })).body.data?.issue;
    expect(issue?.paperCount).toBe(PAPERS);
    expect(issue?.subtitle).toBe('changed by hand');
    const client = await backend.raw();
    try {
      await expectIntact(client);
    } finally {
      await client.end();
    }
  }, 120_000);
});
