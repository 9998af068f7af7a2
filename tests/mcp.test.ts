/**
 * The MCP server (issue 19), driven by the SDK's own client: over Streamable
 * HTTP at /mcp (through app.fetch) and over stdio (`src/cli/mcp.ts` as a
 * process, reading a listening server). Tools, resources, prompts, bad inputs,
 * drafts never visible anonymously, and rate budgets charged per tool call.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { createToken } from '../src/auth/tokens.js';
import { DEFAULT_MANIFEST_PATH, persistedOperations } from '../src/http/pipeline/persisted.js';
import { MCP_DOCUMENTS } from '../src/mcp/operations.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { seedSample } from '../src/fixtures/seed.js';
import { type TestDb, createTestDb } from './helpers/db.js';

let tdb: TestDb;
let app: App;
let editorToken: string;
const DRAFT = 'gen-2025-06-02';

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  await generateArchive(tdb.db, { editions: 1, papersPerIssue: 6, firstWeek: '2025-06-02', status: 'draft', seed: 4 });
  editorToken = (await createToken(tdb.db, { name: 'mcp', scope: 'editor' })).token;
  app = createApp({ db: tdb.db });
}, 120_000);

afterAll(async () => {
  await tdb?.destroy();
});

/** An MCP client over HTTP to `target` (app.fetch), with optional headers (a token, an address). */
async function httpClient(target: App, headers: Record<string, string> = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('http://localhost/mcp'), {
    requestInit: { headers },
    fetch: (url, init) => Promise.resolve(target.fetch(new Request(url, init))),
  });
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

type ToolResult = Awaited<ReturnType<Client['callTool']>>;
const text = (r: ToolResult) => (r.content as Array<{ type: string; text: string }>).map((c) => c.text).join('\n');

/** The checks every transport must pass. */
async function exercise(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual([
    'get_edition',
    'get_paper',
    'list_categories',
    'list_editions',
    'papers_in_category',
    'search_papers',
  ]);
  for (const t of tools) {
    expect(t.description, t.name).toBeTruthy();
    expect(t.outputSchema, t.name).toBeTruthy();
  }
  const search = tools.find((t) => t.name === 'search_papers')!;
  expect((search.inputSchema.properties as Record<string, { description?: string }>).query?.description).toBeTruthy();

  const found = await client.callTool({ name: 'search_papers', arguments: { query: 'reward model', limit: 3 } });
  expect(found.isError).toBeFalsy();
  const results = (found.structuredContent as { results: Array<{ id: string; title: string; edition: string }> })
    .results;
  expect(results.length).toBeGreaterThan(0);
  expect(results.length).toBeLessThanOrEqual(3);
  expect(text(found)).toContain(results[0]!.title);
  expect((found.structuredContent as { correctedQuery: string | null }).correctedQuery).toBeNull();
  // A typo: the results of the corrected query, and the assistant is told what was searched.
  const typo = await client.callTool({ name: 'search_papers', arguments: { query: 'rewrad model', limit: 3 } });
  expect(typo.structuredContent as { relaxed: boolean; correctedQuery: string | null }).toMatchObject({
    relaxed: true,
    correctedQuery: 'reward model',
  });
  expect(text(typo)).toContain('results for "reward model"');

  const byNumber = await client.callTool({ name: 'get_paper', arguments: { issue: '2025-05-05', number: '2.3' } });
  expect(byNumber.isError).toBeFalsy();
  expect((byNumber.structuredContent as { title: string }).title).toBe('RM-R1: Reward Modeling as Reasoning');
  expect(text(byNumber)).toContain('# 2.3 RM-R1');
  const byArxiv = await client.callTool({ name: 'get_paper', arguments: { arxivId: 'arXiv:2505.02387' } });
  expect((byArxiv.structuredContent as { number: string }).number).toBe('2.3');
  const byId = await client.callTool({ name: 'get_paper', arguments: { id: results[0]!.id } });
  expect((byId.structuredContent as { title: string }).title).toBe(results[0]!.title);

  const latest = await client.callTool({ name: 'get_edition', arguments: { slug: 'latest' } });
  expect((latest.structuredContent as { slug: string }).slug).toBe('2025-05-05');
  expect(text(latest)).toContain('RM-R1');

  const editions = await client.callTool({ name: 'list_editions', arguments: { limit: 5 } });
  expect((editions.structuredContent as { editions: Array<{ slug: string }> }).editions.map((e) => e.slug)).toEqual([
    '2025-05-05',
  ]);
  const older = await client.callTool({ name: 'list_editions', arguments: { before: '2025-05-05' } });
  expect((older.structuredContent as { editions: unknown[] }).editions).toEqual([]);

  const categories = await client.callTool({ name: 'list_categories', arguments: {} });
  const slugs = (categories.structuredContent as { categories: Array<{ slug: string }> }).categories.map((c) => c.slug);
  expect(slugs).toContain('llm-reasoning');
  const inCategory = await client.callTool({
    name: 'papers_in_category',
    arguments: { category: 'llm-reasoning', limit: 2 },
  });
  const page = inCategory.structuredContent as { papers: unknown[]; hasNextPage: boolean; endCursor: string };
  expect(page.papers).toHaveLength(2);
  const next = await client.callTool({
    name: 'papers_in_category',
    arguments: { category: 'llm-reasoning', limit: 2, after: page.endCursor },
  });
  expect(next.isError).toBeFalsy();

  // Resources and prompts.
  const { resourceTemplates } = await client.listResourceTemplates();
  expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
    'llmpapers://editions/{slug}',
    'llmpapers://papers/{issue}/{number}',
  ]);
  const listed = await client.listResources();
  expect(listed.resources.map((r) => r.uri)).toEqual(['llmpapers://editions/2025-05-05']);
  const editionDoc = await client.readResource({ uri: 'llmpapers://editions/2025-05-05' });
  expect((editionDoc.contents[0] as { text: string }).text).toContain('2.3');
  const paperDoc = await client.readResource({ uri: 'llmpapers://papers/2025-05-05/2.3' });
  expect((paperDoc.contents[0] as { text: string }).text).toContain('RM-R1');
  const { prompts } = await client.listPrompts();
  expect(prompts.map((p) => p.name).sort()).toEqual(['compare_papers', 'weekly_digest']);
  const digest = await client.getPrompt({ name: 'weekly_digest', arguments: { slug: 'latest' } });
  expect(JSON.stringify(digest.messages)).toContain('RM-R1');
  const compare = await client.getPrompt({
    name: 'compare_papers',
    arguments: { ids: `${results[0]!.id}, ${(byNumber.structuredContent as { id: string }).id}` },
  });
  expect(compare.messages).toHaveLength(1);

  // Bad inputs: the schema's bounds, and a paper asked for two ways at once.
  const tooMany = await client.callTool({ name: 'search_papers', arguments: { query: 'x', limit: 500 } });
  expect(tooMany.isError).toBe(true);
  const twoWays = await client.callTool({ name: 'get_paper', arguments: { id: 'x', arxivId: '2505.02387' } });
  expect(twoWays.isError).toBe(true);
  expect(text(twoWays)).toMatch(/^BAD_USER_INPUT: /);
  const longQuery = await client.callTool({ name: 'search_papers', arguments: { query: 'a'.repeat(501) } });
  expect(longQuery.isError).toBe(true);
  const missing = await client.callTool({ name: 'get_edition', arguments: { slug: 'no-such-edition' } });
  expect(text(missing)).toMatch(/^NOT_FOUND: /);
  await expect(client.readResource({ uri: 'llmpapers://papers/2025-05-05/9.9' })).rejects.toThrow(/NOT_FOUND/);
  // Hostile arguments of every tool: each a clear error (a schema error, or the API's code), never a crash.
  const hostile: Array<[string, Record<string, unknown>, RegExp]> = [
    ['search_papers', { query: 'a\u0000b' }, /^BAD_USER_INPUT: /],
    ['search_papers', { query: '' }, /Input validation error/],
    ['search_papers', { query: 42 }, /Input validation error/],
    ['search_papers', { query: 'x', limit: -1 }, /Input validation error/],
    ['search_papers', { query: 'x', limit: 1.5 }, /Input validation error/],
    ['search_papers', { query: 'x', weekFrom: '2025-02-30' }, /calendar date/],
    ['search_papers', { query: 'x', weekTo: 'yesterday' }, /calendar date/],
    ['get_paper', {}, /^BAD_USER_INPUT: /],
    ['get_paper', { id: 'zzz' }, /^BAD_USER_INPUT: /],
    ['get_paper', { id: 'a'.repeat(300) }, /Input validation error/],
    ['get_paper', { arxivId: 'not an id' }, /^BAD_USER_INPUT: /],
    ['get_paper', { issue: '2025-05-05' }, /^BAD_USER_INPUT: /],
    ['get_paper', { issue: '2025-05-05', number: '0.0' }, /^BAD_USER_INPUT: /],
    ['get_paper', { issue: '../etc', number: '1.1' }, /^NOT_FOUND: /],
    ['get_edition', { slug: '' }, /Input validation error/],
    ['list_editions', { limit: 0 }, /Input validation error/],
    ['list_editions', { before: '9999-99-99' }, /calendar date/],
    ['papers_in_category', { category: 'llm-reasoning', after: 'garbage' }, /^BAD_USER_INPUT: /],
    ['papers_in_category', { category: 'nope' }, /^NOT_FOUND: /],
    ['no_such_tool', {}, /not found/],
  ];
  for (const [name, args, expected] of hostile) {
    const r = await client.callTool({ name, arguments: args });
    expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
    expect(text(r), `${name} ${JSON.stringify(args)}`).toMatch(expected);
  }
}

describe('MCP over Streamable HTTP (/mcp)', () => {
  it('lists and runs every tool, resource and prompt; rejects bad inputs', async () => {
    const client = await httpClient(app);
    await exercise(client);
    await client.close();
  });

  it('never shows a draft anonymously; an editor’s token does', async () => {
    const anonymous = await httpClient(app);
    const hidden = await anonymous.callTool({ name: 'get_edition', arguments: { slug: DRAFT } });
    expect(text(hidden)).toMatch(/^NOT_FOUND: /);
    await anonymous.close();
    const editor = await httpClient(app, { authorization: `Bearer ${editorToken}` });
    const seen = await editor.callTool({ name: 'get_edition', arguments: { slug: DRAFT } });
    expect(seen.isError).toBeFalsy();
    expect((seen.structuredContent as { slug: string }).slug).toBe(DRAFT);
    await editor.close();
  });

  it('charges each tool call to the caller’s rate budget and says when to retry', async () => {
    const limited = createApp({
      db: tdb.db,
      limits: { rateLimit: { points: 40, durationSec: 3600, maxInFlight: 100 }, trustProxy: true },
    });
    const client = await httpClient(limited, { 'x-forwarded-for': '10.9.9.9' });
    let last: ToolResult | undefined;
    for (let i = 0; i < 100; i++) {
      last = await client.callTool({ name: 'get_edition', arguments: { slug: 'latest' } });
      if (last.isError) break;
    }
    expect(last?.isError).toBe(true);
    expect(text(last!)).toMatch(/^RATE_LIMITED: .*Retry after \d+ s\./);
    expect((last!._meta as { code: string }).code).toBe('RATE_LIMITED');
    await client.close();
    // Another caller's budget is untouched.
    const other = await httpClient(limited, { 'x-forwarded-for': '10.9.9.10' });
    expect((await other.callTool({ name: 'list_categories', arguments: {} })).isError).toBeFalsy();
    await other.close();
  });

  it('works on a server that runs persisted operations only (its operations are trusted)', async () => {
    const strict = createApp({
      db: tdb.db,
      plugins: persistedOperations('only', DEFAULT_MANIFEST_PATH, MCP_DOCUMENTS),
    });
    const client = await httpClient(strict);
    for (const [name, args] of [
      ['search_papers', { query: 'reward model' }],
      ['get_paper', { issue: '2025-05-05', number: '2.3' }],
      ['get_edition', { slug: 'latest' }],
      ['list_editions', {}],
      ['list_categories', {}],
      ['papers_in_category', { category: 'llm-reasoning' }],
    ] as const) {
      const r = await client.callTool({ name, arguments: args });
      expect(r.isError, `${name}: ${text(r)}`).toBeFalsy();
    }
    await client.close();
    // …while an arbitrary query is still refused.
    const res = await strict.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ categories { slug } }' }),
    });
    expect(res.status).toBe(400);
  });

  it('is POST only, and refuses a body over its limit', async () => {
    expect((await app.fetch('http://localhost/mcp')).status).toBe(405);
    const big = await app.fetch('http://localhost/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(70_000) } }),
    });
    expect(big.status).toBe(413);
  });
});

describe('MCP over stdio (npm run mcp)', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    // Yoga is a node:http request listener itself.
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('runs the same tools, resources and prompts against a listening server', async () => {
    const transport = new StdioClientTransport({
      // As the README's client configuration launches it.
      command: 'npm',
      args: ['run', '--silent', 'mcp'],
      env: { ...(process.env as Record<string, string>), LLM_PAPERS_URL: origin },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    await exercise(client);
    await client.close();
  }, 60_000);
});
