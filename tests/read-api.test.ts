import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { seedSample } from '../src/fixtures/seed.js';
import { sampleIssue } from '../src/fixtures/sample-issue.js';
import { encodeGlobalId } from '../src/graphql/global-id.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { errorCode, gql } from './helpers/http.js';
import { graphql } from './graphql.js';

let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  app = createApp({ db: tdb.db });
});
afterAll(async () => {
  await tdb?.destroy();
});

const FullIssue = graphql(`fragment FullIssue on Issue {
  id slug title subtitle weekStart weekEnd intro outro status publishedAt createdAt updatedAt paperCount
  asides { title body }
  sections { number category { id slug name description } papers { id number sectionNumber position title summary url arxivId issue { slug } category { slug } createdAt updatedAt } }
  papers(first: 100) { totalCount edges { cursor node { number title } } nodes { number } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
}`);

describe('the sample edition through the read API', () => {
  it('latestIssue has 5 sections and 15 papers, in number order', async () => {
    const res = await gql(app, graphql(`query LatestFull { latestIssue { ...FullIssue } }`, [FullIssue]));
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const issue = res.body.data!.latestIssue!;
    expect(issue.slug).toBe('2025-05-05');
    expect(issue.title).toBe(sampleIssue.title);
    expect(issue.subtitle).toBe(sampleIssue.subtitle);
    expect(issue.weekStart).toBe('2025-05-05');
    expect(issue.weekEnd).toBe('2025-05-11');
    expect(issue.status).toBe('PUBLISHED');
    expect(issue.publishedAt).toBe('2025-05-12T08:00:00.000Z');
    expect(issue.intro).toBe(sampleIssue.intro);
    expect(issue.outro).toBe(sampleIssue.outro);
    expect(issue.asides).toEqual(sampleIssue.asides);
    expect(issue.paperCount).toBe(15);
    expect(issue.sections.map((s) => s.number)).toEqual([1, 2, 3, 4, 5]);
    expect(issue.sections.map((s) => s.category.name)).toEqual([
      'LLM Progress & Technical Reports',
      'LLM Reasoning',
      'LLM Training & Fine-Tuning',
      'Vision Language Models',
      'LLM Evaluation',
    ]);
    const numbers = issue.sections.flatMap((s) => s.papers.map((p) => p.number));
    expect(numbers).toEqual([
      '1.1',
      '1.2',
      '1.3',
      '2.1',
      '2.2',
      '2.3',
      '2.4',
      '2.5',
      '2.6',
      '3.1',
      '3.2',
      '3.3',
      '4.1',
      '4.2',
      '5.1',
    ]);
    const rm = issue.sections[1]!.papers[2]!;
    expect(rm).toMatchObject({
      number: '2.3',
      sectionNumber: 2,
      position: 3,
      title: 'RM-R1: Reward Modeling as Reasoning',
    });
    expect(rm.issue.slug).toBe('2025-05-05');
    expect(rm.category.slug).toBe('llm-reasoning');
    expect(typeof rm.summary).toBe('string');
    expect(rm.summary.length).toBeGreaterThan(50);
    expect(issue.papers.totalCount).toBe(15);
    expect(issue.papers.edges.map((e) => e.node.number)).toEqual(numbers);
    expect(issue.papers.nodes.map((n) => n.number)).toEqual(numbers);
    expect(issue.papers.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it('issue(slug) finds the edition; an unknown slug is null', async () => {
    const res = await gql(
      app,
      graphql(`query TwoSlugs { a: issue(slug: "2025-05-05") { slug } b: issue(slug: "nope") { slug } }`),
    );
    expect(res.body.data).toEqual({ a: { slug: '2025-05-05' }, b: null });
  });

  it('categories and category(slug)', async () => {
    const res = await gql(
      app,
      graphql(
        `query Categories { categories { slug name paperCount } category(slug: "llm-reasoning") { name description paperCount papers(first: 3) { totalCount nodes { number title } } } missing: category(slug: "x") { id } }`,
      ),
    );
    expect(res.body.errors).toBeUndefined();
    const data = res.body.data!;
    expect(data.categories).toHaveLength(5);
    expect(data.categories.map((c) => c.name)).toEqual([...data.categories.map((c) => c.name)].sort());
    expect(data.categories.reduce((n, c) => n + c.paperCount, 0)).toBe(15);
    const category = data.category!;
    expect(category.paperCount).toBe(6);
    expect(category.description!.length).toBeGreaterThan(0);
    expect(category.papers.totalCount).toBe(6);
    expect(category.papers.nodes.map((n) => n.number)).toEqual(['2.1', '2.2', '2.3']);
    expect(data.missing).toBeNull();
  });

  it('paper(issue, number)', async () => {
    const res = await gql(
      app,
      graphql(`query Papers { p: paper(issue: "2025-05-05", number: "2.3") { number title arxivId url issue { title } category { name } }
         none: paper(issue: "2025-05-05", number: "9.9") { id }
         noIssue: paper(issue: "1999-01-01", number: "1.1") { id } }`),
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.p).toMatchObject({
      number: '2.3',
      title: 'RM-R1: Reward Modeling as Reasoning',
      category: { name: 'LLM Reasoning' },
    });
    expect(res.body.data!.p!.arxivId).toBe('2505.02387');
    expect(res.body.data!.p!.url).toBe('https://arxiv.org/abs/2505.02387');
    expect(res.body.data!.none).toBeNull();
    expect(res.body.data!.noIssue).toBeNull();
  });

  it('paper(number:) that is not "N.M" is a BAD_USER_INPUT error', async () => {
    for (const number of ['2', '2.3.1', 'a.b', '0.1', '2.03x', '']) {
      const res = await gql(
        app,
        graphql(`query PaperByNumber($n: String!) { paper(issue: "2025-05-05", number: $n) { id } }`),
        { n: number },
      );
      expect(errorCode(res), number).toBe('BAD_USER_INPUT');
    }
  });

  it('node and nodes resolve every node type by global id', async () => {
    const ids = await gql(
      app,
      graphql(`query LatestIds { latestIssue { id sections { category { id } papers { id } } } }`),
    );
    const issue = ids.body.data!.latestIssue!;
    const paperId = issue.sections[0]!.papers[0]!.id;
    const categoryId = issue.sections[0]!.category.id;
    const res = await gql(
      app,
      graphql(`query Nodes($ids: [ID!]!, $i: ID!) {
        node(id: $i) { __typename id ... on Issue { slug } }
        nodes(ids: $ids) { __typename id ... on Paper { number } ... on Category { slug } }
      }`),
      { i: issue.id, ids: [paperId, categoryId, encodeGlobalId('Paper', 999999)] },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.node).toEqual({ __typename: 'Issue', id: issue.id, slug: '2025-05-05' });
    expect(res.body.data!.nodes).toEqual([
      { __typename: 'Paper', id: paperId, number: '1.1' },
      { __typename: 'Category', id: categoryId, slug: 'llm-progress-technical-reports' },
      null,
    ]);
    // ids are opaque: not the database integer
    expect(issue.id).not.toMatch(/^\d+$/);
  });

  it('malformed global ids are BAD_USER_INPUT errors', async () => {
    const bad = [
      'x',
      '!!!',
      Buffer.from('Issue:abc').toString('base64url'),
      Buffer.from('Nope:1').toString('base64url'),
      Buffer.from('Issue:99999999999').toString('base64url'),
      Buffer.from('Issue:-1').toString('base64url'),
      'A'.repeat(100_000),
    ];
    for (const id of bad) {
      const res = await gql(app, graphql(`query NodeById($id: ID!) { node(id: $id) { id } }`), { id });
      expect(errorCode(res), id.slice(0, 20)).toBe('BAD_USER_INPUT');
      expect(res.body.data?.node ?? null).toBeNull();
    }
    const many = await gql(app, graphql(`query NodesByIds($ids: [ID!]!) { nodes(ids: $ids) { id } }`), {
      ids: ['bad'],
    });
    expect(errorCode(many)).toBe('BAD_USER_INPUT');
  });

  it('Date, DateTime and URL scalars serialise as ISO strings and absolute URLs', async () => {
    const res = await gql(
      app,
      graphql(`query Scalars { latestIssue { weekStart createdAt sections { papers { url } } } }`),
    );
    const issue = res.body.data!.latestIssue!;
    expect(issue.weekStart).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(new Date(issue.createdAt).toISOString()).toBe(issue.createdAt);
    for (const p of issue.sections.flatMap((s) => s.papers)) {
      const url = p.url;
      if (url !== null) expect(() => new URL(url)).not.toThrow();
    }
  });

  it('GraphiQL is served at /graphql for browsers with the default query', async () => {
    const res = await app.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('GraphiQL');
    expect(html).toContain('latestIssue');
    // example tabs: latest edition, search, a category page
    expect(html).toContain('searchPapers');
    expect(html).toContain('CategoryPage');
  });
});
