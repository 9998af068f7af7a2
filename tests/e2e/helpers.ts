import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import {
  type AnyDocument,
  type GraphQLResponse,
  type ResultOfDocument,
  type VariableArgs,
  documentText,
} from '../helpers/http.js';
import { repoRoot } from '../helpers/server.js';

/** A committed edition in the plain-text format (the tests need no ../shared). */
export const FIXTURE_ISSUE = path.join(repoRoot, 'tests', 'fixtures', 'newsletter', 'clean-edition.txt');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command of package.json's scripts as `npm run NAME --` does (`node scripts/start.mjs src/cli/NAME.ts`), as one process. */
export function runCli(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 120_000,
): Promise<CliResult> {
  const child = spawn(process.execPath, ['scripts/start.mjs', path.join('src', 'cli', script), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/**
 * POSTs to a running server's /graphql. With a document from tests/graphql.ts the body has its
 * result type; a string document (e.g. `{ __typename }` for a status) gives a body to inspect.
 */
export async function gql<D extends AnyDocument>(
  url: string,
  document: D,
  ...args: VariableArgs<D>
): Promise<{ status: number; body: GraphQLResponse<ResultOfDocument<D>>['body'] }>;
export async function gql(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<{ status: number; body: unknown }>;
export async function gql(
  url: string,
  document: string | AnyDocument,
  ...[variables, headers = {}]: [variables?: unknown, headers?: Record<string, string>]
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: documentText(document), variables }),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

/** Polls `read` until `ok` holds or `withinMs` passes; returns the last value and when it first held. */
export async function eventually<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  withinMs: number,
): Promise<{ value: T; afterMs: number | null }> {
  const started = performance.now();
  let value = await read();
  while (!ok(value)) {
    if (performance.now() - started > withinMs) return { value, afterMs: null };
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return { value, afterMs: performance.now() - started };
}

/** A client for raw SQL: PostgreSQL by URL, or a running server's PGlite through its socket. */
export async function sqlClient(target: { url: string } | { dataDir: string }): Promise<pg.Client> {
  const client =
    'url' in target
      ? new pg.Client({ connectionString: target.url })
      : new pg.Client({ host: path.resolve(target.dataDir), port: 5432, user: 'postgres', database: 'postgres' });
  await client.connect();
  return client;
}

const TABLES = ['issues', 'sections', 'papers', 'categories', 'api_tokens'];

/**
 * The database is intact: every row found by a sequential scan is found
 * through its primary-key index and no key appears twice, the numbering keys
 * are unique, and no paper lacks its section or edition.
 */
export async function expectIntact(client: pg.Client): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(
      'SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off',
    );
    const heap = new Map<string, number[]>();
    for (const table of TABLES) {
      const { rows } = await client.query<{ id: number }>(`SELECT id FROM ${table}`);
      heap.set(
        table,
        rows.map((r) => r.id),
      );
      expect(new Set(rows.map((r) => r.id)).size, `duplicate ids in ${table}`).toBe(rows.length);
    }
    const dupNumbers = await client.query(
      'SELECT issue_id, section_number, position FROM papers GROUP BY 1, 2, 3 HAVING count(*) > 1',
    );
    expect(dupNumbers.rows, 'papers sharing a number').toEqual([]);
    const orphans = await client.query(
      `SELECT p.id FROM papers p LEFT JOIN sections s ON s.id = p.section_id LEFT JOIN issues i ON i.id = p.issue_id
        WHERE s.id IS NULL OR i.id IS NULL`,
    );
    expect(orphans.rows, 'papers without their section or edition').toEqual([]);
    await client.query(
      'SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on; SET LOCAL enable_bitmapscan = on',
    );
    for (const table of TABLES) {
      const ids = heap.get(table)!;
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE id = ANY($1::int[])`,
        [ids],
      );
      expect(rows[0]!.n, `rows of ${table} missing from its primary-key index`).toBe(ids.length);
    }
  } finally {
    await client.query('ROLLBACK');
  }
}
