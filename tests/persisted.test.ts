import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSample } from '../src/fixtures/seed.js';
import {
  PERSISTED_ERROR_CODES,
  loadManifest,
  operationHash,
  persistedOperations,
} from '../src/http/pipeline/persisted.js';
import { authHeader } from './helpers/auth.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { createPluginApp, postJson } from './helpers/plugin-app.js';
import { repoRoot } from './helpers/server.js';

const run = promisify(execFile);
const manifestPath = path.join(repoRoot, 'examples/client/persisted-operations.json');
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');

let tdb: TestDb;
let app: ReturnType<typeof createPluginApp>;
let manifest: Map<string, string>;
let latestHash: string;
let latestText: string;

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  manifest = loadManifest(manifestPath);
  [latestHash, latestText] = [...manifest].find(([, doc]) => doc.startsWith('query LatestIssue'))!;
  app = createPluginApp(tdb.db, { after: persistedOperations('only', manifestPath) });
});
afterAll(async () => {
  await app.events.close();
  await tdb?.destroy();
});

describe('the manifest', () => {
  it('is generated from the example client and up to date', async () => {
    const { stderr } = await run(tsx, ['examples/client/scripts/manifest.ts', '--check'], { cwd: repoRoot });
    expect(stderr).toMatch(/up to date \(3 operations\)/);
    expect(manifest.size).toBe(3);
    for (const [hash, doc] of manifest) expect(operationHash(doc)).toBe(hash);
  });

  it('is refused at start when missing or when a key is not the hash of its document', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pq-'));
    expect(() => persistedOperations('only', path.join(dir, 'missing.json'))).toThrow(
      /Cannot read the persisted operations manifest/,
    );
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ['0'.repeat(64)]: '{ latestIssue { title } }' }));
    expect(() => persistedOperations('only', bad)).toThrow(/not the sha256 of its document/);
  });
});

describe("mode 'only'", () => {
  it('runs an operation sent by its sha256Hash alone (standard persistedQuery extension)', async () => {
    const res = await postJson(app, {
      operationName: 'LatestIssue',
      extensions: { persistedQuery: { version: 1, sha256Hash: latestHash } },
    });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.latestIssue.sections.length).toBe(5);
  });

  it('runs a persisted operation with variables', async () => {
    const [hash] = [...manifest].find(([, doc]) => doc.startsWith('query CategoryPapers'))!;
    const res = await postJson(app, {
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
      variables: { slug: 'llm-reasoning', first: 2 },
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.category.papers.edges).toHaveLength(2);
  });

  it('accepts the full text of a persisted operation, as sent or with other formatting', async () => {
    const exact = await postJson(app, { query: latestText });
    expect(exact.body.errors).toBeUndefined();
    expect(exact.body.data.latestIssue.title).toBeTruthy();
    const reformatted = await postJson(app, { query: latestText.replace(/\s+/g, ' ') });
    expect(reformatted.body.errors).toBeUndefined();
    expect(reformatted.body.data.latestIssue.title).toBe(exact.body.data.latestIssue.title);
  });

  it('runs the manifest document when a hash comes with some other text', async () => {
    const res = await postJson(app, {
      query: '{ categories { slug } }',
      extensions: { persistedQuery: { version: 1, sha256Hash: latestHash } },
    });
    expect(res.body.errors).toBeUndefined();
    expect(Object.keys(res.body.data)).toEqual(['latestIssue']);
  });

  it('rejects an unknown hash, any other query, and a request with neither, before any SQL', async () => {
    const auth = await authHeader(tdb.db); // a valid token: building the context would query api_tokens
    tdb.resetStatements();
    const unknown = await postJson(
      app,
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } },
      auth,
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe(PERSISTED_ERROR_CODES.notFound);
    expect(unknown.body.errors?.[0]?.message).toMatch(/not in the manifest/);

    const arbitrary = await postJson(app, { query: '{ latestIssue { title intro } }' }, auth);
    expect(arbitrary.status).toBe(400);
    expect(arbitrary.body.errors?.[0]?.extensions?.code).toBe(PERSISTED_ERROR_CODES.only);

    const mutation = await postJson(
      app,
      { query: 'mutation { deleteIssue(input: { id: "SXNzdWU6MQ" }) { __typename } }' },
      auth,
    );
    expect(mutation.status).toBe(400);
    expect(mutation.body.errors?.[0]?.extensions?.code).toBe(PERSISTED_ERROR_CODES.only);

    const garbage = await postJson(app, { query: '{ {{ not graphql' }, auth);
    expect(garbage.body.errors?.[0]?.extensions?.code).toBe(PERSISTED_ERROR_CODES.only);

    const neither = await postJson(app, { variables: {} }, auth);
    expect(neither.status).toBe(400);
    expect(neither.body.errors?.[0]?.extensions?.code).toBe(PERSISTED_ERROR_CODES.only);

    expect(tdb.statements).toEqual([]);
  });
});

describe("mode 'off'", () => {
  it('adds no plugin: any operation runs', async () => {
    expect(persistedOperations('off', '/nonexistent.json')).toEqual([]);
    const open = createPluginApp(tdb.db, { after: persistedOperations('off') });
    const res = await postJson(open, { query: '{ latestIssue { title intro } }' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.latestIssue.intro).toBeTypeOf('string');
    await open.events.close();
  });
});

describe('the example client against a server in mode only', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/graphql`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const persisted of [true, false]) {
    it(`reads the latest issue and pages a category ${persisted ? 'by hash' : 'by full text'}`, async () => {
      const args = [
        'examples/client/src/main.ts',
        '--url',
        url,
        '--no-subscribe',
        '--page-size',
        '2',
        '--category',
        'llm-reasoning',
      ];
      if (persisted) args.push('--persisted');
      const { stdout } = await run(tsx, args, { cwd: repoRoot, timeout: 30_000 });
      expect(stdout).toMatch(/^Latest issue: .+\(2025-05-05, 2025-05-05 – 2025-05-11\)$/m);
      expect(stdout).toMatch(/^Category done: \d+ papers in \d+ pages$/m);
      expect(stdout).toMatch(/Done\.\n$/);
    });
  }
});

// Keep the manifest readable by humans too: one document per key, no duplicates.
it('holds each document once', () => {
  const docs = Object.values(JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>);
  expect(new Set(docs).size).toBe(docs.length);
});
