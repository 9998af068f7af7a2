/**
 * The Apollo Federation subgraph (issue 20, FEDERATION=on): it composes with
 * another subgraph that extends Paper, `_service { sdl }` is the committed
 * schema.federation.graphql, and `_entities` resolves every key through the
 * loaders — unknown keys as null, types mixed, drafts hidden, and 100
 * representations in a few statements. No gateway runs here (see README).
 */
import { readFileSync } from 'node:fs';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { seedSample } from '../src/fixtures/seed.js';
import { encodeGlobalId } from '../src/graphql/global-id.js';
import { printedSubgraphSchema } from '../src/graphql/schema.js';
import { type TestDb, createTestDb } from './helpers/db.js';

let tdb: TestDb;
let federated: App;
let plain: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  await generateArchive(tdb.db, { editions: 10, papersPerIssue: 12, firstWeek: '2024-01-01', categories: 5, seed: 8 });
  await generateArchive(tdb.db, { editions: 1, papersPerIssue: 4, firstWeek: '2025-06-02', status: 'draft', seed: 9 });
  federated = createApp({ db: tdb.db, federation: true });
  plain = createApp({ db: tdb.db });
}, 120_000);

afterAll(async () => {
  await tdb?.destroy();
});

// biome-ignore lint/suspicious/noExplicitAny: _entities answers a union of shapes checked field by field below
async function post(app: App, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

const ENTITIES = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Issue { slug }
    ... on Paper { number title arxivId issue { slug } }
    ... on Category { slug name }
  }
}`;

describe('the subgraph schema', () => {
  it('is served only with FEDERATION=on, and its SDL is the committed schema.federation.graphql', async () => {
    const sdl = (await post(federated, '{ _service { sdl } }')).data._service.sdl as string;
    expect(sdl).toContain('@key(fields: "arxivId")');
    expect(readFileSync('schema.federation.graphql', 'utf8')).toBe(printedSubgraphSchema());
    const refused = await post(plain, '{ _service { sdl } }');
    expect(refused.errors?.[0]?.message).toMatch(/_service/);
  });

  it('composes with another subgraph that extends Paper and Issue by their keys', async () => {
    const sdl = (await post(federated, '{ _service { sdl } }')).data._service.sdl as string;
    const reviews = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
      type Paper @key(fields: "arxivId") { arxivId: String! reviewCount: Int! }
      type Issue @key(fields: "slug") { slug: String! listenerCount: Int! }
      type Query { topReviewed: [Paper!]! }
    `;
    const result = composeServices([
      { name: 'papers', typeDefs: parse(sdl), url: 'http://127.0.0.1:4000/graphql' },
      { name: 'reviews', typeDefs: parse(reviews), url: 'http://127.0.0.1:4001/graphql' },
    ]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.supergraphSdl).toContain('reviewCount');
    expect(result.supergraphSdl).toContain('searchPapers');
  });
});

describe('_entities', () => {
  it('resolves every key, mixed types in order, unknown keys as null', async () => {
    const ids = await post(plain, '{ paper(issue: "2025-05-05", number: "2.3") { id issue { id } } }');
    const paperId = ids.data.paper.id as string;
    const issueId = ids.data.paper.issue.id as string;
    const result = await post(federated, ENTITIES, {
      representations: [
        { __typename: 'Paper', id: paperId },
        { __typename: 'Paper', arxivId: '2505.02387' },
        { __typename: 'Issue', id: issueId },
        { __typename: 'Issue', slug: '2025-05-05' },
        { __typename: 'Category', slug: 'llm-reasoning' },
        { __typename: 'Paper', arxivId: '9999.99999' },
        { __typename: 'Issue', slug: 'no-such-edition' },
        { __typename: 'Paper', id: encodeGlobalId('Issue', 1) },
        { __typename: 'Paper', id: 'not a global id' },
        { __typename: 'Category', slug: 'nope' },
      ],
    });
    expect(result.errors).toBeUndefined();
    const e = result.data._entities;
    expect(e[0]).toMatchObject({ __typename: 'Paper', number: '2.3', issue: { slug: '2025-05-05' } });
    expect(e[1]).toMatchObject({ __typename: 'Paper', arxivId: '2505.02387', number: '2.3' });
    expect(e[2]).toEqual({ __typename: 'Issue', slug: '2025-05-05' });
    expect(e[3]).toEqual({ __typename: 'Issue', slug: '2025-05-05' });
    expect(e[4]).toMatchObject({ __typename: 'Category', slug: 'llm-reasoning' });
    expect(e.slice(5)).toEqual([null, null, null, null, null]);
  });

  it('answers malformed representations with BAD_USER_INPUT naming the one at fault, running nothing', async () => {
    const bad: unknown[][] = [
      [{ id: 'x' }],
      [{ __typename: 'Nope', id: 'x' }],
      [{ __typename: 'Paper' }],
      [{ __typename: 'Paper', arxivId: 5 }],
      [{ __typename: 'Paper', slug: '2025-05-05' }],
      [{ __typename: 'Issue', slug: '' }],
      [{ __typename: 'Issue', slug: 'a\u0000b' }],
      [{ __typename: 'Category', slug: 'x'.repeat(201) }],
      [{ __typename: 'Issue', slug: '2025-05-05' }, 'not an object'],
      [{ __typename: 'Issue', slug: '2025-05-05' }, ['array']],
      Array.from({ length: 1001 }, (_, i) => ({ __typename: 'Paper', arxivId: `${i}` })),
    ];
    for (const representations of bad) {
      tdb.resetStatements();
      const result = await post(federated, ENTITIES, { representations });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(representations).slice(0, 80)).toBe('BAD_USER_INPUT');
      expect(result.errors[0].message).toMatch(/representations/);
      expect(tdb.statements.filter((s) => /papers|issues|categories/.test(s))).toEqual([]);
    }
  });

  it('hides drafts from anonymous callers', async () => {
    const result = await post(federated, ENTITIES, {
      representations: [{ __typename: 'Issue', slug: 'gen-2025-06-02' }],
    });
    expect(result.data._entities).toEqual([null]);
  });

  it('resolves 100 representations of three types in the same few statements as nodes(ids:)', async () => {
    const list = await post(plain, '{ papers(first: 100) { nodes { id arxivId issue { slug } category { slug } } } }');
    const papers = list.data.papers.nodes as Array<{ id: string; issue: { slug: string }; category: { slug: string } }>;
    expect(papers).toHaveLength(100);
    const representations = papers.map((p, i) =>
      i % 3 === 0
        ? { __typename: 'Paper', id: p.id }
        : i % 3 === 1
          ? { __typename: 'Issue', slug: p.issue.slug }
          : { __typename: 'Category', slug: p.category.slug },
    );
    tdb.resetStatements();
    const result = await post(federated, ENTITIES, { representations });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities.filter((x: unknown) => x === null)).toEqual([]);
    const statements = tdb.statements.filter((s) => /^\s*(select|with)/i.test(s));
    // One per loader (papers by id, editions by slug, categories by slug) and per nesting level (the papers' editions).
    expect(statements.length).toBeLessThanOrEqual(5);
  });
});
