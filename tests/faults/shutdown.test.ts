/**
 * SIGTERM and kill -9 of the API while it imports a big edition (PostgreSQL
 * on a private instance, and PGlite), and the PGlite directory lock.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/tokens.js';
import { createDb } from '../../src/db/client.js';
import { selectRows } from '../../src/db/queries/util.js';
import { generateIssueDocument } from '../../src/fixtures/generate.js';
import { renderMarkdown } from '../../src/newsletter/markdown.js';
import { repoRoot } from '../helpers/server.js';
import { type ServerProcess, sleep, spawnServer, timedGql } from './helpers.js';
import { type PrivatePg, privatePgAvailable, startPrivatePg, waitFor } from './private-pg.js';
import { graphql } from '../graphql.js';

const PAPERS = 900;
const IMPORT = graphql(`mutation($text: String!) {
  importIssue(input: { text: $text, format: MARKDOWN, publish: true }) {
    __typename
    ... on ImportIssuePayload { created issue { slug paperCount } }
    ... on UserError { message code }
  }
}`);
const PAPER_COUNT = graphql(`query PaperCount($slug: String!) { issue(slug: $slug) { paperCount } }`);

function edition(index: number) {
  const doc = generateIssueDocument(index, { papers: PAPERS, summaryWords: [60, 90] });
  return { text: renderMarkdown(doc), slug: doc.weekStart! };
}

/** Migrates the database (PostgreSQL url or PGlite directory) and returns an editor token. */
async function prepare(target: { url?: string; dataDir?: string }): Promise<string> {
  const handle = await createDb(target);
  try {
    await handle.migrate();
    const { token } = await createToken(handle.db, { name: `faults-${Date.now()}`, scope: 'editor' });
    return token;
  } finally {
    await handle.close();
  }
}

/** Papers stored for the slug, and whether the edition row exists, read by a fresh connection/process. */
async function stored(
  target: { url?: string; dataDir?: string },
  slug: string,
): Promise<{ issue: boolean; papers: number }> {
  const handle = await createDb(target);
  try {
    const issue = await selectRows<{ n: number }>(
      handle.db,
      sql`SELECT count(*)::int AS n FROM issues WHERE slug = ${slug}`,
    );
    const papers = await selectRows<{ n: number }>(
      handle.db,
      sql`SELECT count(*)::int AS n FROM papers p JOIN issues i ON i.id = p.issue_id WHERE i.slug = ${slug}`,
    );
    return { issue: issue[0]?.n === 1, papers: papers[0]?.n ?? 0 };
  } finally {
    await handle.close();
  }
}

function expectAllOrNothing(s: { issue: boolean; papers: number }) {
  expect(s.issue ? s.papers : 0).toBe(s.papers);
  expect([0, PAPERS]).toContain(s.papers);
}

async function transactionInFlight(admin: pg.Client, database: string): Promise<boolean> {
  const { rows } = await admin.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND xact_start IS NOT NULL AND pid <> pg_backend_pid() AND query ILIKE '%papers%'`,
    [database],
  );
  return rows[0].n > 0;
}

describe.skipIf(!privatePgAvailable)('SIGTERM and kill -9 during an import', () => {
  let pgi: PrivatePg;
  let admin: pg.Client;
  beforeAll(async () => {
    pgi = await startPrivatePg();
    admin = await pgi.admin();
  });
  afterAll(async () => {
    await admin?.end();
    pgi?.destroy();
  });

  // No bound on how long the exit takes (a loaded machine may be slow, never wrong): the process must exit 0
  // by itself; one that hangs is caught by the test's timeout.
  it('PostgreSQL, SIGTERM mid-import: the import completes (or rolls back), exit 0, all or nothing', async () => {
    const url = await pgi.createDatabase('sigterm_import');
    const token = await prepare({ url });
    const server = await spawnServer({ DATABASE_URL: url, SEED_SAMPLE: 'false' });
    await server.ready();
    const { text, slug } = edition(0);
    let answered = 0;
    const request = timedGql(server.url, IMPORT, { text }, { authorization: `Bearer ${token}` }, 60_000).then((r) => {
      answered = Date.now();
      return r;
    });
    await waitFor(() => transactionInFlight(admin, 'sigterm_import'), 30_000, 'the import transaction');
    expect(answered).toBe(0); // it really is in flight when the signal comes
    const signalled = Date.now();
    server.kill('SIGTERM');
    const [response, exit] = await Promise.all([request, server.exited]);
    console.info(
      `[sigterm/pg] answered ${answered - signalled} ms after SIGTERM (${response.body?.data?.importIssue?.__typename ?? response.code}); exited ${exit.at - signalled} ms after, code ${exit.code}`,
    );
    expect(exit.code).toBe(0);
    expect(response.status).toBe(200);
    expect(response.body?.data?.importIssue).toMatchObject({
      __typename: 'ImportIssuePayload',
      created: true,
      issue: { slug, paperCount: PAPERS },
    });
    expect(await stored({ url }, slug)).toEqual({ issue: true, papers: PAPERS });
  });

  it('PostgreSQL, kill -9 mid-import: the edition is fully there or absent; a restarted server serves it', async () => {
    const url = await pgi.createDatabase('kill_import');
    const token = await prepare({ url });
    const results: string[] = [];
    for (let round = 0; round < 3; round++) {
      const server = await spawnServer({ DATABASE_URL: url, SEED_SAMPLE: 'false' });
      await server.ready();
      const { text, slug } = edition(10 + round);
      // Round 0: an admin holds a lock on papers, so the import is caught for sure
      // between its first writes and its paper inserts. Rounds 1–2: no help, killed
      // as soon as (or a little after) its transaction shows up.
      const locker = round === 0 ? await pgi.admin('kill_import') : null;
      if (locker) {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE papers IN EXCLUSIVE MODE');
      }
      const request = timedGql(server.url, IMPORT, { text }, { authorization: `Bearer ${token}` }, 60_000);
      await waitFor(() => transactionInFlight(admin, 'kill_import'), 30_000, 'the import transaction');
      if (round === 2) await sleep(100);
      server.kill('SIGKILL');
      const exit = await server.exited;
      const response = await request;
      await locker?.query('ROLLBACK');
      await locker?.end();
      expect(exit.signal).toBe('SIGKILL');
      // PostgreSQL notices the closed connection and rolls back.
      await waitFor(async () => !(await transactionInFlight(admin, 'kill_import')), 10_000, 'the rollback');
      const s = await stored({ url }, slug);
      results.push(
        `round ${round}: ${response.status === 0 ? 'killed in flight' : 'answered before the kill'}, ${s.issue ? 'present' : 'absent'}, ${s.papers} papers`,
      );
      expectAllOrNothing(s);
      if (round === 0) expect(s).toEqual({ issue: false, papers: 0 });
      const again = await spawnServer({ DATABASE_URL: url, SEED_SAMPLE: 'false' });
      try {
        await again.ready();
        const q = await timedGql(again.url, PAPER_COUNT, { slug });
        expect(q.body?.data?.issue?.paperCount ?? 0).toBe(s.papers);
      } finally {
        again.kill('SIGTERM');
        expect((await again.exited).code).toBe(0);
      }
    }
    console.info(`[kill9/pg] ${results.join('; ')}`);
  });
});

describe('PGlite: kill -9 mid-import, SIGTERM mid-import, one process per directory', () => {
  let dataDir: string;
  let token: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'faults-pglite-'));
    token = await prepare({ dataDir });
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a second server on the same DATA_DIR exits 1 naming the directory and the PID', async () => {
    const first = await spawnServer({ DATABASE_URL: undefined, DATA_DIR: dataDir, SEED_SAMPLE: 'false' });
    try {
      await first.ready();
      const child = spawn(process.execPath, ['scripts/start.mjs'], {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      console.info(`[lock] second process: exit ${code}: ${out.trim()}`);
      expect(code).toBe(1);
      expect(out).toContain(`The data directory ${path.resolve(dataDir)} is in use by the server (PID ${first.pid})`);
      expect(out).not.toContain('Listening');
    } finally {
      first.kill('SIGTERM');
      expect((await first.exited).code).toBe(0);
    }
  });

  it('SIGTERM mid-import: the import completes, exit 0', async () => {
    const server = await spawnServer({ DATABASE_URL: undefined, DATA_DIR: dataDir, SEED_SAMPLE: 'false' });
    await server.ready();
    const { text, slug } = edition(20);
    let answered = 0;
    const request = timedGql(server.url, IMPORT, { text }, { authorization: `Bearer ${token}` }, 60_000).then((r) => {
      answered = Date.now();
      return r;
    });
    await sleep(400);
    expect(answered).toBe(0); // it really is in flight when the signal comes
    const signalled = Date.now();
    server.kill('SIGTERM');
    const [response, exit] = await Promise.all([request, server.exited]);
    console.info(
      `[sigterm/pglite] answered ${answered - signalled} ms after SIGTERM; exited ${exit.at - signalled} ms after, code ${exit.code}`,
    );
    expect(exit.code).toBe(0);
    expect(response.body?.data?.importIssue).toMatchObject({
      __typename: 'ImportIssuePayload',
      issue: { paperCount: PAPERS },
    });
    expect(await stored({ dataDir }, slug)).toEqual({ issue: true, papers: PAPERS });
  });

  it('kill -9 mid-import at several points: the directory opens again, the edition is all there or absent', async () => {
    const results: string[] = [];
    // First: how long a whole import takes here, to aim the kills inside it.
    let server: ServerProcess = await spawnServer({ DATABASE_URL: undefined, DATA_DIR: dataDir, SEED_SAMPLE: 'false' });
    await server.ready();
    const probe = await timedGql(
      server.url,
      IMPORT,
      { text: edition(30).text },
      { authorization: `Bearer ${token}` },
      60_000,
    );
    expect(probe.body?.data?.importIssue.__typename).toBe('ImportIssuePayload');
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    const full = probe.ms;
    for (const [round, fraction] of [0.3, 0.6, 0.85].entries()) {
      server = await spawnServer({ DATABASE_URL: undefined, DATA_DIR: dataDir, SEED_SAMPLE: 'false' });
      await server.ready();
      const { text, slug } = edition(31 + round);
      const request = timedGql(server.url, IMPORT, { text }, { authorization: `Bearer ${token}` }, 60_000);
      await sleep(Math.round(full * fraction));
      server.kill('SIGKILL');
      await server.exited;
      const response = await request;
      // A fresh process opens the directory (the stale lock is taken over) and finds all or nothing.
      const s = await stored({ dataDir }, slug);
      results.push(
        `kill at ${Math.round(full * fraction)} ms (${fraction * 100}%): ${response.status === 0 ? 'in flight' : 'already answered'}, ${s.issue ? 'present' : 'absent'}, ${s.papers} papers`,
      );
      expectAllOrNothing(s);
    }
    server = await spawnServer({ DATABASE_URL: undefined, DATA_DIR: dataDir, SEED_SAMPLE: 'false' });
    await server.ready();
    const list = await timedGql(server.url, '{ issues(first: 50) { totalCount } }');
    expect(list.status).toBe(200);
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    console.info(`[kill9/pglite] full import ${full.toFixed(0)} ms; ${results.join('; ')}`);
  });
});
