import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot, startServer, type RunningServer } from '../helpers/server.js';
import { FIXTURE_ISSUE, expectIntact, gql, runCli, sqlClient } from './helpers.js';
import { graphql } from '../graphql.js';

/**
 * One PGlite directory, many processes: a server and commands. Nothing may
 * ever open a directory another process holds; commands go through the
 * server, wait for each other, or refuse before touching a file.
 */
const dirs: string[] = [];
const servers: RunningServer[] = [];

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-dir-'));
  dirs.push(dir);
  return dir;
}

async function serve(dir: string): Promise<RunningServer> {
  const server = await startServer({ DATABASE_URL: undefined, REDIS_URL: undefined, DATA_DIR: dir, LOG_LEVEL: 'warn' });
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const s of servers.splice(0))
    if (s.child.exitCode === null && s.child.signalCode === null) await s.stop('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const env = (dir: string) => ({ DATABASE_URL: undefined, DATA_DIR: dir });
const PAPER_COUNT = graphql(`query PaperCount($slug: String!) { issue(slug: $slug) { paperCount } }`);
const paperCount = async (url: string, slug: string) =>
  (await gql(url, PAPER_COUNT, { slug })).body.data?.issue?.paperCount ?? null;

/** A big edition (so that an import takes a while): `sections` × `perSection` papers with long summaries. */
function bigIssue(sections: number, perSection: number): string {
  const lines = [
    'Important LLM Papers for the Week From 06/01 to 12/01',
    'A long edition',
    'Intro paragraph.',
    'Table of Contents:',
  ];
  for (let s = 1; s <= sections; s++) lines.push(`Category ${s}`);
  for (let s = 1; s <= sections; s++) {
    lines.push(`${s}. Category ${s}`);
    for (let p = 1; p <= perSection; p++) {
      lines.push(`${s}.${p}. Paper ${s}-${p}: A Study of Something Long Enough`);
      lines.push(
        `Summary of paper ${s}.${p}. ${'The method improves reasoning and alignment of language models. '.repeat(20)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('one PGlite directory, a server and commands', () => {
  it('two imports at once through a running server both land, and the database is intact', async () => {
    const dir = dataDir();
    const server = await serve(dir);
    const [a, b] = await Promise.all([
      runCli('import.ts', [FIXTURE_ISSUE, '--week-start', '2031-02-03', '--publish'], env(dir)),
      runCli('import.ts', [FIXTURE_ISSUE, '--week-start', '2031-02-10', '--publish'], env(dir)),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(await paperCount(server.url, '2031-02-03')).toBe(5);
    expect(await paperCount(server.url, '2031-02-10')).toBe(5);
    // the same week twice at once: one is created, the other refused cleanly
    const [c, d] = await Promise.all([
      runCli('import.ts', [FIXTURE_ISSUE, '--week-start', '2031-02-17'], env(dir)),
      runCli('import.ts', [FIXTURE_ISSUE, '--week-start', '2031-02-17'], env(dir)),
    ]);
    expect([c.code, d.code].sort()).toEqual([0, 1]);
    expect(`${c.stderr}${d.stderr}`).toMatch(/already exists|at the same time/);
    const client = await sqlClient({ dataDir: dir });
    try {
      await expectIntact(client);
    } finally {
      await client.end();
    }
  }, 180_000);

  it('kill -9 of the server during an import through it: the edition is all there or absent', async () => {
    const dir = dataDir();
    const file = path.join(dir, '..', `${path.basename(dir)}-big.txt`);
    writeFileSync(file, bigIssue(20, 40));
    try {
      const server = await serve(dir);
      const child = spawn(
        process.execPath,
        ['scripts/start.mjs', 'src/cli/import.ts', file, '--week-start', '2031-03-03'],
        {
          cwd: repoRoot,
          env: { ...process.env, ...env(dir) },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      // kill the server as soon as the command is writing through it
      await new Promise<void>((resolve) =>
        child.stderr.on('data', (d) => {
          stderr += d;
          if (stderr.includes('using the database of the server')) resolve();
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 150));
      await server.stop('SIGKILL');
      const code = await exited;
      const restarted = await serve(dir);
      const count = await paperCount(restarted.url, '2031-03-03');
      // (a commit can land just before the kill, unacknowledged: then the command failed but all of it is there)
      expect([800, null]).toContain(count);
      if (code === 0) expect(count).toBe(800);
      const client = await sqlClient({ dataDir: dir });
      try {
        await expectIntact(client);
      } finally {
        await client.end();
      }
    } finally {
      rmSync(file, { force: true });
    }
  }, 180_000);

  it('a server that starts while a command holds the directory waits for it', async () => {
    const dir = dataDir();
    const file = path.join(dir, '..', `${path.basename(dir)}-big.txt`);
    writeFileSync(file, bigIssue(10, 30));
    try {
      const importing = runCli('import.ts', [file, '--week-start', '2031-04-07', '--publish'], env(dir));
      // the command holds the directory once its lock exists
      for (let i = 0; i < 200; i++) {
        try {
          if (JSON.parse(readFileSync(path.join(dir, '.lock'), 'utf8')).role === 'import') break;
        } catch {
          /* not yet */
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const server = await serve(dir);
      const imported = await importing;
      expect(imported.code, imported.stderr).toBe(0);
      expect(await paperCount(server.url, '2031-04-07')).toBe(300);
    } finally {
      rmSync(file, { force: true });
    }
  }, 180_000);

  it('a client that leaves a transaction open neither leaks into the server nor stalls it', async () => {
    const dir = dataDir();
    const server = await startServer({
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      IDLE_IN_TRANSACTION_TIMEOUT_MS: '1500',
    });
    servers.push(server);
    const original = (await gql(server.url, graphql(`{ issue(slug: "2025-05-05") { subtitle } }`))).body.data?.issue
      ?.subtitle;
    expect(original).toBeTruthy();

    // idle in a transaction: the server's reads wait, then the client is cut off and its write rolled back
    const idle = await sqlClient({ dataDir: dir });
    idle.on('error', () => {});
    // The order of events, not a duration, shows that the read waited for the client's transaction: the
    // bridge sends the client its FATAL 25P03 before it lets the server's queries in again.
    const order: string[] = [];
    idle.on('error', (err: Error & { code?: string }) => {
      if (err.code === '25P03') order.push('idle client cut off');
    });
    await idle.query('BEGIN');
    await idle.query(`UPDATE issues SET subtitle = 'uncommitted' WHERE slug = '2025-05-05'`);
    const read = await gql(server.url, graphql(`{ issue(slug: "2025-05-05") { subtitle title } }`)); // not cached yet
    order.push('read answered');
    expect(read.body.data?.issue?.subtitle).toBe(original);
    expect(order).toEqual(['idle client cut off', 'read answered']);
    await expect(idle.query('SELECT 1')).rejects.toThrow();

    // a client that goes away mid-transaction: rolled back at once
    const gone = await sqlClient({ dataDir: dir });
    gone.on('error', () => {});
    await gone.query('BEGIN');
    await gone.query(`UPDATE issues SET subtitle = 'uncommitted' WHERE slug = '2025-05-05'`);
    (gone as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(
      (await gql(server.url, graphql(`{ issue(slug: "2025-05-05") { subtitle weekStart } }`))).body.data?.issue
        ?.subtitle,
    ).toBe(original);
  }, 120_000);

  it('named prepared statements of different clients never meet in the shared session', async () => {
    const dir = dataDir();
    await serve(dir);
    const a = await sqlClient({ dataDir: dir });
    const b = await sqlClient({ dataDir: dir });
    try {
      // the same name, two texts, interleaved; then each again (the client skips Parse the second time)
      expect((await a.query({ name: 'q', text: 'SELECT 1 AS v' })).rows).toEqual([{ v: 1 }]);
      expect((await b.query({ name: 'q', text: 'SELECT 2 AS v' })).rows).toEqual([{ v: 2 }]);
      expect((await a.query({ name: 'q', text: 'SELECT 1 AS v' })).rows).toEqual([{ v: 1 }]);
      expect((await b.query({ name: 'q', text: 'SELECT 2 AS v' })).rows).toEqual([{ v: 2 }]);
    } finally {
      await a.end();
      await b.end();
    }
    // a new connection may use the name again: the old ones' statements were closed with them
    const c = await sqlClient({ dataDir: dir });
    try {
      expect((await c.query({ name: 'q', text: 'SELECT 3 AS v' })).rows).toEqual([{ v: 3 }]);
      const left = await c.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'b%_q'`);
      expect(left.rows[0].n).toBe(1);
    } finally {
      await c.end();
    }
  }, 120_000);

  it('a second server on the same directory is refused, naming the PID', async () => {
    const dir = dataDir();
    await serve(dir);
    const holder = JSON.parse(readFileSync(path.join(dir, '.lock'), 'utf8')).pid;
    await expect(serve(dir)).rejects.toThrow(new RegExp(`in use by the server \\(PID ${holder}\\)`));
  }, 120_000);

  it('a command refuses, touching nothing, when the server lacks a migration or runs another version', async () => {
    const dir = dataDir();
    const server = await serve(dir);
    const lockFile = path.join(dir, '.lock');
    const holder = JSON.parse(readFileSync(lockFile, 'utf8'));
    const snapshot = () => statSync(path.join(dir, 'base')).mtimeMs;

    // the server "has not applied" the newest migration
    const client = await sqlClient({ dataDir: dir });
    const last = await client.query(
      'DELETE FROM drizzle.__drizzle_migrations WHERE id = (SELECT max(id) FROM drizzle.__drizzle_migrations) RETURNING *',
    );
    try {
      const before = snapshot();
      const refused = await runCli('import.ts', [FIXTURE_ISSUE, '--week-start', '2031-05-05'], env(dir));
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(new RegExp(`server \\(PID ${holder.pid}\\) has not applied 1 migration`));
      expect(refused.stderr).toMatch(/Restart the server/);
      expect(await paperCount(server.url, '2031-05-05')).toBeNull();
      expect(snapshot()).toBe(before);
      const migrate = await runCli('migrate.ts', [], env(dir));
      expect(migrate.code).toBe(3);
    } finally {
      const row = last.rows[0];
      await client.query('INSERT INTO drizzle.__drizzle_migrations (id, hash, created_at) VALUES ($1, $2, $3)', [
        row.id,
        row.hash,
        row.created_at,
      ]);
      await client.end();
    }

    // another version of the bridge
    writeFileSync(lockFile, JSON.stringify({ ...holder, bridge: { ...holder.bridge, protocol: 999 } }));
    const other = await runCli('token.ts', ['create', '--name', 'x', '--scope', 'editor'], env(dir));
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(new RegExp(`server \\(PID ${holder.pid}\\) .*another version`));
    writeFileSync(lockFile, JSON.stringify(holder));
  }, 120_000);
});
