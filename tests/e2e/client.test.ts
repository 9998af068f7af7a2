import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnyDocument, documentText } from '../helpers/http.js';
import { type RunningServer, repoRoot, startServer } from '../helpers/server.js';
import { type ResultOf, type VariablesOf, graphql } from '../graphql.js';

const run = promisify(execFile);
const clientMain = path.join(repoRoot, 'examples/client/dist/main.js');
/** The server on embedded PGlite, whatever DATABASE_URL the suite runs with. */
const pgliteEnv = (dataDir: string) => ({
  DATA_DIR: dataDir,
  DATABASE_URL: undefined,
  REDIS_URL: undefined,
  SEED_SAMPLE: 'true',
});

let dataDir: string;
let server: RunningServer | undefined;
let token: string;
let graphqlUrl: string;

beforeAll(async () => {
  // The example client is compiled with its own (strict) tsconfig, as a user would.
  await run('npm', ['run', '--silent', 'client:build'], { cwd: repoRoot, timeout: 120_000 });
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'client-test-'));
  // PGlite allows one process per data directory: the token first, then the server.
  const created = await run(
    path.join(repoRoot, 'node_modules/.bin/tsx'),
    ['src/cli/token.ts', 'create', '--name', 'client-test', '--scope', 'editor'],
    { cwd: repoRoot, env: { ...process.env, ...pgliteEnv(dataDir), DATABASE_URL: '' }, timeout: 60_000 },
  );
  token = created.stdout.trim();
  expect(token).toMatch(/^llmp_\S+$/);
  server = await startServer(pgliteEnv(dataDir));
  graphqlUrl = `${server.url}/graphql`;
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function editor<D extends AnyDocument>(document: D, variables: VariablesOf<D>): Promise<ResultOf<D>> {
  const res = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: documentText(document), variables }),
  });
  const body = (await res.json()) as { data?: ResultOf<D>; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data!;
}

/** Runs the compiled client; resolves with its exit code and output. */
function startClient(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [clientMain, '--url', graphqlUrl, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners: Array<() => void> = [];
  child.stdout!.on('data', (d) => {
    stdout += d;
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    waitFor: (pattern: RegExp, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`client never printed ${pattern}:\n${stdout}\n${stderr}`)),
          timeoutMs,
        );
        const check = () => {
          if (pattern.test(stdout)) {
            clearTimeout(timer);
            resolve();
          }
        };
        listeners.push(check);
        check();
        void exited.then(() => setTimeout(check, 0));
      }),
  };
}

it('has its schema types (graphql-env.d.ts) generated from the current schema.graphql', async () => {
  const out = path.join(dataDir, 'graphql-env.d.ts');
  await run(
    path.join(repoRoot, 'node_modules/.bin/gql.tada'),
    ['generate-output', '-c', 'examples/client/tsconfig.json', '-o', out],
    {
      cwd: repoRoot,
      timeout: 60_000,
    },
  );
  const committed = readFileSync(path.join(repoRoot, 'examples/client/src/graphql-env.d.ts'), 'utf8');
  expect(readFileSync(out, 'utf8') === committed, 'stale: run npm run client:types').toBe(true);
});

describe('the typed example client against the real server', () => {
  it('prints the latest issue and pages through a category until the end', async () => {
    const client = startClient(['--no-subscribe', '--category', 'llm-reasoning', '--page-size', '2']);
    const code = await client.exited;
    const { stdout, stderr } = client.output();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Latest issue: .+ \(2025-05-05, 2025-05-05 – 2025-05-11\)$/m);
    // 5 sections, each with its numbered papers
    expect(stdout.match(/^ {2}\d\. .+ \[[a-z0-9-]+\]$/gm)).toHaveLength(5);
    expect(stdout).toMatch(/^ {4}2\.1 \S/m);
    // every page of the category, following endCursor
    const total = Number(/^Category: .+ \((\d+) papers, 2 per page\)$/m.exec(stdout)?.[1]);
    expect(total).toBeGreaterThan(2);
    const pages = Math.ceil(total / 2);
    expect(stdout.match(/^ {2}page \d+:$/gm)).toHaveLength(pages);
    expect(stdout).toContain(`Category done: ${total} papers in ${pages} pages`);
    expect(stdout.trimEnd().endsWith('Done.')).toBe(true);
  });

  it('subscribes to issuePublished and prints the edition published through the API', async () => {
    const client = startClient(['--category', 'llm-evaluation', '--timeout', '40']);
    await client.waitFor(/^Subscribed to issuePublished/m);
    const created = (
      await editor(
        graphql(`mutation($input: CreateIssueInput!) {
          createIssue(input: $input) { __typename ... on CreateIssuePayload { issue { id } } ... on UserError { message } }
        }`),
        {
          input: {
            slug: '2025-05-12',
            title: 'Important LLM Papers for the Week from 12/05 to 18/05',
            weekStart: '2025-05-12',
          },
        },
      )
    ).createIssue;
    if (created.__typename !== 'CreateIssuePayload') throw new Error(`createIssue answered ${JSON.stringify(created)}`);
    const published = await editor(
      graphql(`mutation($id: ID!) { publishIssue(input: { id: $id }) { __typename ... on UserError { message } } }`),
      {
        id: created.issue.id,
      },
    );
    expect(published.publishIssue.__typename).toBe('PublishIssuePayload');
    const code = await client.exited;
    const { stdout, stderr } = client.output();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^Published: Important LLM Papers for the Week from 12\/05 to 18\/05 \(2025-05-12, week of 2025-05-12, 0 papers, at \d{4}-\d\d-\d\dT/m,
    );
    expect(stdout.trimEnd().endsWith('Done.')).toBe(true);
  });

  it('exits 1 with a clear message when nothing is published in time', async () => {
    const client = startClient(['--category', 'llm-evaluation', '--timeout', '1']);
    expect(await client.exited).toBe(1);
    expect(client.output().stderr).toMatch(/^Error: no edition published within 1 s/m);
  });
});
