import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { createToken, revokeToken } from '../../src/auth/tokens.js';
import { generateArchive } from '../../src/fixtures/generate.js';
import { encodeGlobalId } from '../../src/graphql/global-id.js';
import type { TestDb } from '../helpers/db.js';
import { snapshot } from '../helpers/snapshot.js';
import { costOf } from '../helpers/http.js';
import {
  type HostileCase,
  type Sent,
  code,
  graphqlPost,
  measured,
  seededTestDb,
  type ResponseBody,
  type UntypedData,
} from './helpers.js';

// Hostile and careless requests over HTTP (app.fetch). Each case asserts the
// status, the error code, that nothing changed, and — for every rejected
// operation — that no SQL statement ran (a bad token costs one lookup).

let tdb: TestDb;
let app: App;
let editorToken: string;
let expiredToken: string;
let revokedToken: string;
let draftIssueId: string;
let paperCursor: string;
let issueCursor: string;

beforeAll(async () => {
  tdb = await seededTestDb();
  await generateArchive(tdb.db, {
    editions: 1,
    papersPerIssue: 3,
    firstWeek: '2026-02-02',
    status: 'draft',
    categories: 3,
  });
  editorToken = (await createToken(tdb.db, { name: 'editor', scope: 'editor' })).token;
  expiredToken = (
    await createToken(tdb.db, { name: 'expired', scope: 'editor', expiresAt: new Date(Date.now() - 60_000) })
  ).token;
  revokedToken = (await createToken(tdb.db, { name: 'revoked', scope: 'editor' })).token;
  await revokeToken(tdb.db, 'revoked');
  app = createApp({
    db: tdb.db,
    limits: { rateLimit: { points: 1_000_000, durationSec: 3600, maxInFlight: 1000 }, trustProxy: true },
  });
  draftIssueId = encodeGlobalId('Issue', 2);
  const pages = await post({
    query: '{ papers(first: 1) { pageInfo { endCursor } } issues(first: 1) { pageInfo { endCursor } } }',
  });
  paperCursor = pages.body.data!.papers.pageInfo.endCursor;
  issueCursor = pages.body.data!.issues.pageInfo.endCursor;
});
afterAll(async () => {
  await tdb?.destroy();
});

/** Sends a request through app.fetch (to /graphql unless `url` says otherwise); a body that is not JSON (an empty 404) is kept as text. */
const send = (init: RequestInit & { url?: string }): Promise<Sent> =>
  measured(tdb, () => app.fetch(init.url ?? 'http://localhost/graphql', init));
const post = (payload: unknown, headers: Record<string, string> = {}): Promise<Sent> =>
  send(graphqlPost(payload, headers));
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

interface Case extends HostileCase {
  /** SQL statements allowed (0 for rejected operations; 1 for a token lookup). */
  maxStatements?: number;
  /** For accepted operations: check the data. */
  data?: (data: UntypedData) => void;
}

const many = (n: number, s: string) => Array.from({ length: n }, () => s).join(' ');
const nested = (depth: number) => {
  let q = 'title';
  for (let i = 0; i < depth; i++) q = `issue { sections { papers { ${q} } } }`;
  return `{ paper(issue: "2025-05-05", number: "1.1") { ${q} } }`;
};

const cases: Case[] = [
  // ---- transport
  { name: 'malformed JSON', run: () => post('{"query": '), status: 400, code: 'BAD_REQUEST' },
  {
    name: 'JSON array (HTTP batching is off)',
    run: () => post('[{"query":"{ __typename }"}]'),
    status: 400,
    code: 'BAD_REQUEST',
  },
  { name: 'JSON string body', run: () => post('"{ __typename }"'), status: 400, code: 'BAD_REQUEST' },
  { name: 'empty JSON body', run: () => post(''), status: 400, code: 'BAD_REQUEST' },
  { name: 'no query', run: () => post({ variables: {} }), status: 400, message: /query/i },
  { name: 'query is a number', run: () => post({ query: 42 }), status: 400, message: /query/i },
  {
    name: 'variables is a string',
    run: () => post({ query: '{ __typename }', variables: 'x' }),
    status: 400,
    message: /variables/i,
  },
  {
    name: 'unknown operationName',
    run: () => post({ query: 'query A { __typename }', operationName: 'B' }),
    status: 400,
    message: /operation/i,
  },
  { name: 'syntax error', run: () => post({ query: '{ latestIssue { ' }), status: 400, message: /Syntax Error/ },
  {
    name: 'text/plain content type (CSRF)',
    run: () => send({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ __typename }"}' }),
    status: 403,
    code: 'CSRF_PREVENTED',
    message: /CSRF/,
  },
  {
    name: 'form post (CSRF)',
    run: () =>
      send({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'query=%7B__typename%7D',
      }),
    status: 403,
    code: 'CSRF_PREVENTED',
    message: /CSRF/,
  },
  {
    name: 'GET without the CSRF header',
    run: () => send({ url: 'http://localhost/graphql?query=%7B__typename%7D' }),
    status: 403,
    code: 'CSRF_PREVENTED',
    message: /CSRF/,
  },
  {
    name: 'GET mutation',
    run: () =>
      send({
        url: `http://localhost/graphql?query=${encodeURIComponent('mutation { createCategory(input: { slug: "x", name: "x" }) { __typename } }')}`,
        headers: { 'x-graphql-yoga-csrf': '1', ...bearer('llmp_whatever') },
      }),
    status: 405,
    message: /POST/,
    maxStatements: 1,
  },
  {
    name: 'PUT method',
    run: () => send({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }),
    status: 405,
  },
  {
    name: 'body over 1 MB',
    run: () => post({ query: '{ __typename }', variables: { pad: 'x'.repeat(1_100_000) } }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'Content-Length over 1 MB',
    run: () =>
      send({
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '5000000' },
        body: '{"query":"{ __typename }"}',
      }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'streamed JSON body over 1 MB, no Content-Length',
    run: () => {
      const chunk = new TextEncoder().encode(`{"query":"{ __typename }","pad":"${'x'.repeat(200_000)}`);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      });
      return send({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
    },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'application/graphql body over 1 MB',
    run: () =>
      send({
        method: 'POST',
        headers: { 'content-type': 'application/graphql', 'x-graphql-yoga-csrf': '1' },
        body: `{ __typename ${' '.repeat(1_100_000)}}`,
      }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'application/graphql body (small) is served',
    run: () =>
      send({
        method: 'POST',
        headers: { 'content-type': 'application/graphql', 'x-graphql-yoga-csrf': '1' },
        body: '{ __typename }',
      }),
    status: 200,
    data: (data) => expect(data.__typename).toBe('Query'),
  },
  // ---- document limits (graphql-armor)
  {
    name: 'depth 11 (nested)',
    run: () => post({ query: nested(4) }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /depth/,
  },
  {
    name: 'depth through fragments',
    run: () =>
      post({
        query: `{ latestIssue { ...A } } fragment A on Issue { sections { papers { issue { ...B } } } } fragment B on Issue { sections { papers { issue { sections { papers { issue { title } } } } } } }`,
      }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /depth/,
  },
  {
    name: 'fragment cycle',
    run: () => post({ query: '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }' }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: '16 aliases',
    run: () => post({ query: `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: latestIssue { title }`).join(' ')} }` }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /[Aa]liases/,
  },
  {
    name: '500 aliases',
    run: () => post({ query: `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: categories { name }`).join(' ')} }` }),
    status: 400,
    code: 'GRAPHQL_PARSE_FAILED',
  },
  {
    name: '1 100 tokens',
    run: () => post({ query: `{ latestIssue { ${many(1100, 'title')} } }` }),
    status: 400,
    code: 'GRAPHQL_PARSE_FAILED',
    message: /[Tt]oken/,
  },
  {
    name: '51 directives',
    run: () => post({ query: `{ latestIssue { title ${many(51, '@include(if: true)')} } }` }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /[Dd]irective/,
  },
  {
    name: 'field flood (same field 1 000 times)',
    run: () => post({ query: `{ ${many(1000, '__typename')} }` }),
    status: 400,
    code: 'GRAPHQL_PARSE_FAILED',
  },
  {
    name: 'unknown field (suggestions hidden)',
    run: () => post({ query: '{ latestIsue { title } }' }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /^(?!.*Did you mean).*$/,
  },
  // ---- cost
  {
    name: 'cost with literals: 100 × 100 nested pages',
    run: () => post({ query: '{ issues(first: 100) { nodes { papers(first: 100) { nodes { title } } } } }' }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
  },
  {
    name: 'cost with variables: first: $n',
    run: () =>
      post({
        query: 'query($n: Int) { issues(first: $n) { nodes { papers(first: $n) { nodes { title } } } } }',
        variables: { n: 100 },
      }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
  },
  {
    name: 'cost with last: $n through fragments',
    run: () =>
      post({
        query:
          'query($n: Int) { categories { ...P } } fragment P on Category { papers(last: $n) { nodes { issue { papers(first: $n) { nodes { title } } } } } }',
        variables: { n: 50 },
      }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
  },
  {
    name: 'first: 101',
    run: () => post({ query: '{ papers(first: 101) { totalCount } }' }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'first: -1',
    run: () => post({ query: '{ papers(first: -1) { totalCount } }' }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'first: 0 nested',
    run: () => post({ query: '{ categories { papers(first: 0) { totalCount } } }' }),
    status: 200,
    code: 'BAD_USER_INPUT',
    maxStatements: 1,
  },
  {
    name: 'integer overflow literal',
    run: () => post({ query: '{ papers(first: 99999999999) { totalCount } }' }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'integer overflow variable',
    run: () => post({ query: 'query($n: Int) { papers(first: $n) { totalCount } }', variables: { n: 99999999999 } }),
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'first as a string variable',
    run: () => post({ query: 'query($n: Int) { papers(first: $n) { totalCount } }', variables: { n: '10' } }),
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  // ---- arguments
  {
    name: 'invalid date literal',
    run: () => post({ query: '{ issues(filter: { weekFrom: "2025-13-45" }) { totalCount } }' }),
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'invalid date variable (Feb 30)',
    run: () =>
      post({
        query: 'query($d: Date) { papers(filter: { weekFrom: $d }) { totalCount } }',
        variables: { d: '2025-02-30' },
      }),
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'malformed global id',
    run: () => post({ query: '{ node(id: "not-an-id") { id } }' }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: '100 KB global id',
    run: () => post({ query: 'query($id: ID!) { node(id: $id) { id } }', variables: { id: 'A'.repeat(100_000) } }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'global id of an unknown type',
    run: () =>
      post({ query: 'query($id: ID!) { node(id: $id) { id } }', variables: { id: encodeGlobalId('User', 1) } }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'malformed cursor',
    run: () => post({ query: '{ papers(after: "%%%") { totalCount } }' }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'cursor carrying SQL',
    run: () =>
      post({
        query: 'query($c: String) { papers(after: $c) { totalCount } }',
        variables: { c: Buffer.from(`["paper",["2025-01-01' OR 1=1 --",1,1,1]]`).toString('base64url') },
      }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'cursor of another connection',
    run: () => post({ query: 'query($c: String) { papers(after: $c) { totalCount } }', variables: { c: issueCursor } }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'paper cursor used on issues',
    run: () => post({ query: 'query($c: String) { issues(after: $c) { totalCount } }', variables: { c: paperCursor } }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'paper number with a wildcard',
    run: () => post({ query: '{ paper(issue: "2025-05-05", number: "%") { id } }' }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: '51 category slugs',
    run: () =>
      post({
        query: 'query($c: [String!]) { papers(filter: { categories: $c }) { totalCount } }',
        variables: { c: Array.from({ length: 51 }, (_, i) => `c${i}`) },
      }),
    status: 200,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'SQL in a slug is just a slug',
    run: () =>
      post({ query: `{ issue(slug: "' OR 1=1 --") { id } category(slug: "x'; DROP TABLE papers; --") { id } }` }),
    status: 200,
    maxStatements: 2,
    data: (d) => expect(d).toEqual({ issue: null, category: null }),
  },
  {
    name: 'LIKE wildcards in filters match nothing',
    run: () => post({ query: '{ papers(filter: { categories: ["%", "_", "\\\\"], issue: "%" }) { totalCount } }' }),
    status: 200,
    maxStatements: 2,
    data: (d) => expect(d.papers.totalCount).toBe(0),
  },
  {
    name: 'NUL in a slug',
    run: () => post({ query: 'query($s: String!) { issue(slug: $s) { id } }', variables: { s: 'a\u0000b' } }),
    status: 200,
    data: (d) => expect(d.issue).toBeNull(),
  },
  {
    name: 'unicode and a lone surrogate in a slug',
    run: () =>
      post({ query: 'query($s: String!) { issue(slug: $s) { id } }', variables: { s: '\u{1F600}\u0301\ud800' } }),
    status: 200,
    maxStatements: 1,
    data: (d) => expect(d.issue).toBeNull(),
  },
  // ---- tokens
  {
    name: 'unknown token',
    run: () => post({ query: '{ __typename }' }, bearer('llmp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')),
    status: 401,
    code: 'UNAUTHENTICATED',
    maxStatements: 1,
  },
  {
    name: 'expired token',
    run: () => post({ query: '{ __typename }' }, bearer(expiredToken)),
    status: 401,
    code: 'UNAUTHENTICATED',
    message: /expired/,
    maxStatements: 1,
  },
  {
    name: 'revoked token',
    run: () => post({ query: '{ __typename }' }, bearer(revokedToken)),
    status: 401,
    code: 'UNAUTHENTICATED',
    message: /revoked/,
    maxStatements: 1,
  },
  {
    name: 'not a bearer token',
    run: () => post({ query: '{ __typename }' }, { authorization: 'Basic YTpi' }),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'token with SQL',
    run: () => post({ query: '{ __typename }' }, bearer("llmp_' OR '1'='1")),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'anonymous mutation',
    run: () => post({ query: 'mutation { createCategory(input: { slug: "evil", name: "Evil" }) { __typename } }' }),
    status: 200,
    code: 'FORBIDDEN',
  },
  {
    name: 'anonymous import',
    run: () =>
      post({
        query: 'mutation($t: String!) { importIssue(input: { text: $t }) { __typename } }',
        variables: { t: 'x' },
      }),
    status: 200,
    code: 'FORBIDDEN',
  },
  {
    name: 'editor mutation with a NUL byte',
    run: () =>
      post(
        {
          query:
            'mutation { createCategory(input: { slug: "nul", name: "a\\u0000b" }) { __typename ... on ValidationError { path } } }',
        },
        bearer(editorToken),
      ),
    status: 200,
    maxStatements: 2,
    data: (d) => expect(d.createCategory).toEqual({ __typename: 'ValidationError', path: ['input', 'name'] }),
  },
  {
    name: 'editor mutation with 10 000 combining marks',
    run: () =>
      post(
        {
          query: 'mutation($n: String!) { createCategory(input: { slug: "marks", name: $n }) { __typename } }',
          variables: { n: `a${'\u0301'.repeat(10_000)}` },
        },
        bearer(editorToken),
      ),
    status: 200,
    maxStatements: 2,
    data: (d) => expect(d.createCategory.__typename).toBe('ValidationError'),
  },
  // ---- drafts through every entry point
  {
    name: 'draft by slug',
    run: () => post({ query: '{ issue(slug: "gen-2026-02-02") { id } }' }),
    status: 200,
    data: (d) => expect(d.issue).toBeNull(),
  },
  {
    name: 'draft by node',
    run: () => post({ query: 'query($id: ID!) { node(id: $id) { id } }', variables: { id: draftIssueId } }),
    status: 200,
    data: (d) => expect(d.node).toBeNull(),
  },
  {
    name: 'draft by nodes',
    run: () => post({ query: 'query($id: ID!) { nodes(ids: [$id]) { id } }', variables: { id: draftIssueId } }),
    status: 200,
    data: (d) => expect(d.nodes).toEqual([null]),
  },
  {
    name: 'drafts by status filter',
    run: () => post({ query: '{ issues(filter: { status: DRAFT }) { totalCount } }' }),
    status: 200,
    data: (d) => expect(d.issues.totalCount).toBe(0),
  },
  {
    name: 'draft papers by issue filter',
    run: () => post({ query: '{ papers(filter: { issue: "gen-2026-02-02" }) { totalCount } }' }),
    status: 200,
    data: (d) => expect(d.papers.totalCount).toBe(0),
  },
  {
    name: 'draft paper by number',
    run: () => post({ query: '{ paper(issue: "gen-2026-02-02", number: "1.1") { id } }' }),
    status: 200,
    data: (d) => expect(d.paper).toBeNull(),
  },
  {
    name: 'draft papers in category pages',
    run: () => post({ query: '{ categories { papers(first: 100) { nodes { issue { slug } } } } }' }),
    status: 200,
    data: (d) =>
      expect(
        d.categories
          .flatMap((c: { papers: { nodes: Array<{ issue: { slug: string } }> } }) => c.papers.nodes)
          .every((n: { issue: { slug: string } }) => n.issue.slug === '2025-05-05'),
      ).toBe(true),
  },
  {
    name: 'draft as Markdown',
    run: () => send({ url: 'http://localhost/issues/gen-2026-02-02.md' }),
    status: 404,
    maxStatements: 1,
  },
  {
    name: 'draft in the feed',
    run: () => send({ url: 'http://localhost/feeds/issues.json' }),
    status: 200,
    data: () => {},
  },
];

describe('hostile input over HTTP', () => {
  it(`has at least 50 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const before = await snapshot(tdb.db);
      const r = await c.run();
      expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(c.status);
      if (c.code) expect(code(r), JSON.stringify(r.body).slice(0, 300)).toBe(c.code);
      if (c.message) expect(r.body?.errors?.[0]?.message ?? '').toMatch(c.message);
      if (c.data) {
        expect(r.body?.errors, JSON.stringify(r.body?.errors)).toBeUndefined();
        c.data(r.body?.data ?? r.body);
      } else {
        // a rejected operation: no SQL ran (beyond the token lookup it names)
        expect(r.statements).toBeLessThanOrEqual(c.maxStatements ?? 0);
      }
      const text = JSON.stringify(r.body);
      expect(text).not.toMatch(/at .*\.ts:\d+|node_modules|SELECT |INSERT |Failed query|postgres/i);
      expect(await snapshot(tdb.db)).toBe(before);
    });
  }

  it('the feed never lists the draft', async () => {
    const r = await send({ url: 'http://localhost/feeds/issues.json' });
    expect(JSON.stringify(r.body)).not.toContain('gen-2026-02-02');
  });
});

describe('rate limits', () => {
  it('x-ratelimit headers on every response; 429 with Retry-After when the points are spent', async () => {
    // each query costs 10 nodes: 1 point (nodes / 100, at least 1)
    const limited = createApp({
      db: tdb.db,
      limits: { rateLimit: { points: 3, durationSec: 3600, maxInFlight: 5 }, trustProxy: true },
    });
    const ask = (ip: string) =>
      limited.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ query: '{ papers(first: 10) { nodes { title } } }' }),
      });
    const first = await ask('10.0.0.1');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(Number(first.headers.get('x-ratelimit-remaining'))).toBe(2);
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(costOf((await first.json()) as ResponseBody)).toMatchObject({ requested: 10, limit: 10_000, points: 1 });
    await ask('10.0.0.1');
    await ask('10.0.0.1');
    tdb.resetStatements();
    const spent = await ask('10.0.0.1');
    expect(spent.status).toBe(429);
    expect(Number(spent.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(spent.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(((await spent.json()) as ResponseBody).errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(tdb.statements).toHaveLength(0);
    // another client has its own budget
    expect((await ask('10.0.0.2')).status).toBe(200);
    // and non-GraphQL responses carry no GraphQL budget but still work
    expect((await limited.fetch('http://localhost/issues/2025-05-05.md')).status).toBe(200);
  });

  it('requests in flight per client are limited', async () => {
    const limited = createApp({
      db: tdb.db,
      limits: { rateLimit: { points: 100_000, durationSec: 3600, maxInFlight: 2 }, trustProxy: true },
    });
    const ask = (ip: string) =>
      limited.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ query: '{ papers(first: 50) { nodes { title issue { title } category { name } } } }' }),
      });
    const burst = await Promise.all(Array.from({ length: 12 }, () => ask('10.8.8.8')));
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const rejected = burst.find((r) => r.status === 429)!;
    expect(rejected.headers.get('retry-after')).toBe('1');
    // once they are done, the client may send again
    expect((await ask('10.8.8.8')).status).toBe(200);
  });
});

describe('CORS and a Redis outage', () => {
  it('CORS: any origin by default, never with credentials; configurable origins', async () => {
    const preflight = await app.fetch('http://localhost/graphql', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://reader.example.org',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toMatch(/^(\*|https:\/\/reader\.example\.org)$/);
    expect(preflight.headers.get('access-control-allow-credentials')).not.toBe('true');
    const only = createApp({ db: tdb.db, corsOrigins: ['https://site.example.org'] });
    const other = await only.fetch('http://localhost/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).not.toBe('*');
  });

  it('rate limits keep working from memory when Redis is unreachable', async () => {
    const { Redis } = await import('ioredis');
    // nothing listens on port 1: every command fails at once
    const dead = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    try {
      const limited = createApp({
        db: tdb.db,
        limits: { rateLimit: { points: 2, durationSec: 3600, maxInFlight: 5, redis: dead }, trustProxy: true },
      });
      const ask = () =>
        limited.fetch('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.7.7.7' },
          body: JSON.stringify({ query: '{ papers(first: 10) { nodes { title } } }' }),
        });
      const first = await ask();
      expect(first.status).toBe(200);
      expect(first.headers.get('x-ratelimit-limit')).toBe('2');
      await ask();
      expect((await ask()).status).toBe(429);
    } finally {
      dead.disconnect();
    }
  });
});
