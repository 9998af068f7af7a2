import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { generateArchive } from '../../src/fixtures/generate.js';
import { LIMITS } from '../../src/http/pipeline/limits.js';
import type { TestDb } from '../helpers/db.js';
import {
  CPU_BUDGET_MS,
  type HostileCase,
  type Sent,
  code,
  graphqlPost,
  measured,
  seededTestDb,
  type ResponseBody,
} from './helpers.js';
import { costOf } from '../helpers/http.js';

// Hostile documents aimed at the cost analysis and the document limits:
// variable defaults, introspection, fragment bombs, depth and aliases through
// fragments. Each case asserts the status, the code, that a refused operation
// ran no SQL, and that refusing it took little CPU of the server
// (process.cpuUsage around app.fetch: the app runs in this process).

let tdb: TestDb;
let app: App;
let paperIds: string[];

beforeAll(async () => {
  tdb = await seededTestDb();
  await generateArchive(tdb.db, { editions: 3, papersPerIssue: 10, firstWeek: '2025-06-02', categories: 4 });
  app = createApp({
    db: tdb.db,
    limits: { rateLimit: { points: 1_000_000, durationSec: 3600, maxInFlight: 1000 }, trustProxy: true },
  });
  const ids = await post({ query: '{ papers(first: 100) { nodes { id } } }' });
  paperIds = ids.body.data!.papers.nodes.map((n: { id: string }) => n.id);
  // warm up the paths measured below (first calls compile code)
  await post({ query: getIntrospectionQuery() });
  await post({ query: bomb(98) });
  await post({
    query: `{ ${Array.from({ length: 15 }, (_, i) => `s${i}: __schema { ...S }`).join(' ')} } ${SCHEMA_FRAGMENT}`,
  });
});
afterAll(async () => {
  await tdb?.destroy();
});

/** Requests sent: each query gets as many trailing spaces, so that no two are the same text (no cached parse or validation). */
let sent = 0;

async function post(
  payload: { query: string; [k: string]: unknown },
  headers: Record<string, string> = {},
  on: App = app,
): Promise<Sent> {
  payload = { ...payload, query: payload.query + ' '.repeat(++sent) };
  return measured(tdb, () => on.fetch('http://localhost/graphql', graphqlPost(payload, headers)));
}

/** k fragments, each spreading the next twice: 2^k leaves from about 10 tokens per fragment. */
function bomb(
  k: number,
  options: { on?: string; root?: string; leaf?: string; spread?: (next: string) => string } = {},
): string {
  const on = options.on ?? 'Query';
  const spread = options.spread ?? ((next: string) => `...${next} ...${next}`);
  const frags: string[] = [];
  for (let i = 0; i < k; i++) frags.push(`fragment F${i} on ${on} { ${spread(`F${i + 1}`)} }`);
  frags.push(`fragment F${k} on ${on} { ${options.leaf ?? '__typename'} }`);
  return `${options.root ?? '{ ...F0 }'} ${frags.join(' ')}`;
}

const SCHEMA_FRAGMENT =
  'fragment S on __Schema { types { name fields { name args { name type { name } } type { name ofType { name } } } inputFields { name type { name } } } }';

interface Case extends HostileCase {
  /** For accepted operations: checks of the data and of extensions.cost. */
  accepted?: (body: ResponseBody) => void;
}

const requested = (n: number) => (body: ResponseBody) => expect(costOf(body)!.requested).toBe(n);

const cases: Case[] = [
  // ---- variable defaults: the cost reads the value execution uses
  {
    name: 'default of $n, single level: costed at the default (100), not the default page size',
    run: () => post({ query: 'query($n: Int = 100) { papers(first: $n) { nodes { title } } }' }),
    status: 200,
    accepted: requested(100),
  },
  {
    name: 'default of $n, nested pages: refused',
    run: () =>
      post({ query: 'query($n: Int = 100) { issues(first: $n) { nodes { papers(first: $n) { nodes { title } } } } }' }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
    message: /10100 nodes/,
  },
  {
    name: 'default of $n, nested through a fragment and last: refused',
    run: () =>
      post({
        query:
          'query($n: Int = 100) { categories { ...P } } fragment P on Category { papers(last: $n) { nodes { issue { papers(first: $n) { nodes { title } } } } } }',
      }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
  },
  {
    name: 'default of $n, 15 aliases of one page: refused',
    run: () =>
      post({
        query: `query($n: Int = 100) { ${Array.from({ length: 15 }, (_, i) => `a${i}: papers(first: $n) { nodes { title issue { title } category { name } related { title } } }`).join(' ')} }`,
      }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
    message: /12000 nodes/,
  },
  {
    name: 'the argument default (related: 5) when no value is given',
    run: () => post({ query: '{ papers(first: 2) { nodes { related { title } } } }' }),
    status: 200,
    accepted: requested(2 + 2 * 5),
  },
  {
    name: 'a variable default feeding an argument that has a default of its own',
    run: () => post({ query: 'query($r: Int = 50) { papers(first: 2) { nodes { related(first: $r) { title } } } }' }),
    status: 200,
    accepted: requested(2 + 2 * 50),
  },
  {
    name: 'list argument from a variable default: costed at its length',
    run: () =>
      post({
        // (nullable: graphql-jit refuses a non-null variable left to its default)
        query: `query($ids: [ID!] = [${paperIds
          .slice(0, 4)
          .map((id) => JSON.stringify(id))
          .join(', ')}], $r: Int = 50) { nodes(ids: $ids) { id ... on Paper { related(first: $r) { title } } } }`,
      }),
    status: 200,
    accepted: requested(4 + 4 * 50),
  },
  {
    name: 'list argument from a variable default, 100 ids × 100 papers: refused',
    run: () =>
      post({
        query: `query($ids: [ID!]! = [${Array.from({ length: 100 }, (_, i) => JSON.stringify(paperIds[i % paperIds.length])).join(' ')}]) { nodes(ids: $ids) { ... on Issue { papers(first: 100) { nodes { title } } } } }`,
      }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
  },
  {
    name: 'variables given override their defaults: refused',
    run: () =>
      post({
        query: 'query($n: Int = 5) { issues(first: $n) { nodes { papers(first: $n) { nodes { title } } } } }',
        variables: { n: 100 },
      }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
  },
  {
    name: 'variables defaulted: the same document accepted at its default',
    run: () =>
      post({ query: 'query($n: Int = 5) { issues(first: $n) { nodes { papers(first: $n) { nodes { title } } } } }' }),
    status: 200,
    accepted: requested(5 + 5 * 5),
  },
  {
    name: 'an explicit null takes the default page size (20), not the variable default',
    run: () =>
      post({
        query: 'query($n: Int = 5) { issues(first: $n) { nodes { papers(first: 3) { nodes { title } } } } }',
        variables: { n: null },
      }),
    status: 200,
    accepted: requested(20 + 20 * 3),
  },
  {
    name: 'default above the largest page: the page-size error, before any SQL',
    run: () => post({ query: 'query($n: Int = 500) { papers(first: $n) { nodes { title } } }' }),
    status: 200,
    code: 'BAD_USER_INPUT',
    message: /between 1 and 100/,
  },
  {
    name: 'default above the largest page, last on issues: the page-size error, before any SQL',
    run: () =>
      post({
        query: 'query($n: Int = 1000) { issues(last: $n) { nodes { papers(first: 100) { nodes { title } } } } }',
      }),
    status: 200,
    code: 'BAD_USER_INPUT',
    message: /between 1 and 100/,
  },
  // ---- introspection
  {
    name: '15 aliased __schema trees: refused',
    run: () =>
      post({
        query: `{ ${Array.from({ length: 15 }, (_, i) => `s${i}: __schema { types { name fields { name args { name type { name } } type { name ofType { name } } } inputFields { name type { name } } } }`).join(' ')} }`,
      }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
  },
  {
    name: '15 aliased __schema trees through one fragment: refused',
    run: () =>
      post({
        query: `{ ${Array.from({ length: 15 }, (_, i) => `s${i}: __schema { ...S }`).join(' ')} } ${SCHEMA_FRAGMENT}`,
      }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
  },
  {
    name: '__schema spread through a fragment bomb of 4 levels: refused',
    run: () => post({ query: `${bomb(4, { leaf: '__schema { ...S }' })} ${SCHEMA_FRAGMENT}` }),
    status: 400,
    code: 'QUERY_TOO_COSTLY',
  },
  {
    name: '__type, deep (type → fields → type → fields): refused by the introspection depth rule',
    run: () =>
      post({
        query:
          '{ __type(name: "Query") { fields { type { ofType { fields { type { ofType { fields { type { name } } } } } } } } } }',
      }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: '__type, 15 aliases within the limits: costed at what it returns',
    run: () =>
      post({
        query: `{ ${Array.from({ length: 15 }, (_, i) => `t${i}: __type(name: "Query") { fields { args { type { ofType { inputFields { name type { ofType { name } } } } } } type { ofType { fields { name args { name } } } } } }`).join(' ')} }`,
      }),
    status: 200,
    accepted: (body) => expect(costOf(body)!.requested).toBe(costOf(body)!.actual),
  },
  // ---- fragment bombs: refused before validation, whatever the fragments select
  ...[20, 30, 60, 98].map<Case>((k) => ({
    name: `fragment bomb, k = ${k} (2^${k} fields)`,
    run: () => post({ query: bomb(k) }),
    status: 400,
    code: 'QUERY_TOO_LARGE',
    message: /more than 2000 fields/,
  })),
  {
    name: 'fragment bomb on an object type (k = 40, leaf title)',
    run: () => post({ query: bomb(40, { on: 'Issue', root: '{ latestIssue { ...F0 } }', leaf: 'title' }) }),
    status: 400,
    code: 'QUERY_TOO_LARGE',
  },
  {
    name: 'fragment bomb through nested inline fragments (k = 35)',
    run: () =>
      post({
        query: bomb(35, { spread: (next) => `... on Query { ... on Query { ...${next} } } ... { ...${next} }` }),
      }),
    status: 400,
    code: 'QUERY_TOO_LARGE',
  },
  {
    name: 'fragment bomb of spreads under aliases (k = 25)',
    run: () =>
      post({
        query: bomb(25, {
          on: 'Issue',
          root: '{ latestIssue { ...F0 } }',
          leaf: 'title',
          spread: (next) =>
            `a: sections { papers { issue { ...${next} } } } b: sections { papers { issue { ...${next} } } }`,
        }),
      }),
    status: 400,
    code: 'QUERY_TOO_LARGE',
  },
  {
    name: 'fragment bomb, mixed: spreads, inline fragments, aliases, variables (k = 35)',
    run: () =>
      post({
        query: bomb(35, {
          root: 'query($n: Int = 100) { ...F0 papers(first: $n) { nodes { title } } }',
          leaf: 'x: latestIssue { title }',
          spread: (next) => `...${next} ... on Query { ...${next} } __typename`,
        }),
      }),
    status: 400,
    code: 'QUERY_TOO_LARGE',
  },
  {
    name: 'fragment bomb three ways (each fragment spreads the next three times, k = 60: 3^60 fields)',
    run: () => post({ query: bomb(60, { spread: (next) => `...${next} ...${next} ...${next}` }) }),
    status: 400,
    code: 'QUERY_TOO_LARGE',
  },
  {
    name: 'a bomb just under the limit (k = 10: 1 025 fields) is accepted',
    run: () => post({ query: bomb(10, { on: 'Issue', root: '{ latestIssue { ...F0 } }', leaf: 'title' }) }),
    status: 200,
    accepted: (body) => {
      expect(body.data!.latestIssue.title).toBeTruthy();
      expect(costOf(body)!.requested).toBe(1);
    },
  },
  {
    name: 'one level more (k = 11: 2 049 fields) is refused',
    run: () => post({ query: bomb(11, { on: 'Issue', root: '{ latestIssue { ...F0 } }', leaf: 'title' }) }),
    status: 400,
    code: 'QUERY_TOO_LARGE',
  },
  // ---- depth through fragments
  {
    name: 'depth 11 through fragments each spread twice',
    run: () =>
      post({
        query:
          '{ latestIssue { ...A } } fragment A on Issue { sections { papers { issue { ...B ...B } } } } fragment B on Issue { sections { papers { issue { ...C ...C } } } } fragment C on Issue { sections { papers { issue { title } } } }',
      }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /depth/,
  },
  {
    name: 'depth through a chain of 12 fragments, one level each',
    run: () =>
      post({
        query: `{ latestIssue { ...D0 } } ${Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? `fragment D${i} on Issue { sections { ...D${i + 1} } }` : `fragment D${i} on Section { papers { issue { ...D${i + 1} } } }`)).join(' ')} fragment D12 on Issue { title }`,
      }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /depth/,
  },
  // ---- aliases through fragments
  {
    name: 'aliases multiplied by fragment reuse (2 × 2^3 = 16)',
    run: () => post({ query: bomb(3, { leaf: 'a: latestIssue { title } b: latestIssue { title }' }) }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /[Aa]liases/,
  },
  {
    name: 'aliases multiplied by fragments in nested fields',
    run: () =>
      post({
        query:
          '{ latestIssue { ...A } } fragment A on Issue { sections { ...B ...B } x: title } fragment B on Section { papers { ...C } y: number } fragment C on Paper { p: title q: title r: title s: title t: title u: title v: title }',
      }),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /[Aa]liases/,
  },
  {
    name: 'aliases under the limit through fragments (2 × 2^2 = 8) are accepted',
    run: () => post({ query: bomb(2, { leaf: 'a: latestIssue { title } b: latestIssue { title }' }) }),
    status: 200,
    accepted: (body) => expect(body.data!.a.title).toBeTruthy(),
  },
];

describe('cost and document limits against hostile documents', () => {
  it(`has at least 15 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const r = await c.run();
      const show = JSON.stringify(r.body).slice(0, 400);
      expect(r.status, show).toBe(c.status);
      if (c.code) expect(code(r), show).toBe(c.code);
      if (c.message) expect(r.body?.errors?.[0]?.message ?? '').toMatch(c.message);
      if (c.accepted) {
        expect(r.body.errors, show).toBeUndefined();
        const cost = costOf(r.body)!;
        expect(cost.actual).toBeLessThanOrEqual(cost.requested);
        expect(cost.requested).toBeLessThanOrEqual(LIMITS.maxCost);
        c.accepted(r.body);
      } else {
        // refused: no SQL ran, and refusing took little CPU (the less of two runs of the
        // document, each as a new text: one collection or first compilation is not the cost of a refusal)
        expect(r.statements, show).toBe(0);
        const again = await c.run();
        expect(again.status).toBe(c.status);
        expect(again.statements).toBe(0);
        const cpuMs = Math.min(r.cpuMs, again.cpuMs);
        expect(cpuMs, show).toBeLessThan(CPU_BUDGET_MS);
      }
    });
  }
});

describe('introspection within the budget', () => {
  it("GraphiQL's introspection query works for an anonymous client with the default rate limits, costed at what it returns", async () => {
    const config = loadConfig({});
    const limited = createApp({
      db: tdb.db,
      limits: {
        rateLimit: {
          points: config.RATE_LIMIT_POINTS,
          durationSec: config.RATE_LIMIT_WINDOW_SEC,
          maxInFlight: config.RATE_LIMIT_IN_FLIGHT,
        },
        trustProxy: true,
      },
    });
    // what GraphiQL sends (its options on: the largest form of the query)
    const query = getIntrospectionQuery({
      inputValueDeprecation: true,
      schemaDescription: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      oneOf: true,
    });
    for (let i = 0; i < 3; i++) {
      const r = await post({ query, operationName: 'IntrospectionQuery' }, { 'x-forwarded-for': '10.9.9.9' }, limited);
      expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.__schema.types.length).toBeGreaterThan(50);
      expect(r.statements).toBe(0);
      const cost = costOf(r.body)!;
      expect(cost.actual).toBeGreaterThan(500);
      expect(cost.requested).toBe(cost.actual);
      expect(cost.requested).toBeLessThan(LIMITS.maxCost / 4);
      expect(Number(r.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(config.RATE_LIMIT_POINTS * 0.9);
    }
  });
});

describe('refusals are charged', () => {
  it('an operation refused by the document limits or the cost limit costs 1 point; the budget runs out', async () => {
    const limited = createApp({
      db: tdb.db,
      limits: { rateLimit: { points: 3, durationSec: 3600, maxInFlight: 5 }, trustProxy: true },
    });
    const from = { 'x-forwarded-for': '10.6.6.6' };
    const tooLarge = await post({ query: bomb(98) }, from, limited);
    expect(code(tooLarge)).toBe('QUERY_TOO_LARGE');
    expect(tooLarge.headers.get('x-ratelimit-remaining')).toBe('2');
    const tooCostly = await post(
      { query: 'query($n: Int = 100) { issues(first: $n) { nodes { papers(first: $n) { nodes { title } } } } }' },
      from,
      limited,
    );
    expect(code(tooCostly)).toBe('QUERY_TOO_COSTLY');
    expect(tooCostly.headers.get('x-ratelimit-remaining')).toBe('1');
    const invalid = await post({ query: '{ nope }' }, from, limited);
    expect(code(invalid)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(invalid.headers.get('x-ratelimit-remaining')).toBe('0');
    const spent = await post({ query: bomb(98) }, from, limited);
    expect(spent.status).toBe(429);
    expect(code(spent)).toBe('RATE_LIMITED');
    expect(spent.statements).toBe(0);
  });
});
