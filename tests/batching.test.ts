import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';

// Enough data that page sizes 1, 20 and 100 really return 1, 20 and 100 parents.
let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: 200, papersPerIssue: 12, categories: 12, seed: 3 });
  app = createApp({ db: tdb.db });
});
afterAll(async () => {
  await tdb?.destroy();
});

/** Runs a query and returns the number of SQL statements it sent. */
async function statementsFor(query: string): Promise<{ count: number; data: any }> {
  tdb.resetStatements();
  const res = await gql(app, query);
  expect(res.body.errors).toBeUndefined();
  return { count: tdb.statements.length, data: res.body.data };
}

const SIZES = [1, 20, 100];

describe('nested queries cost statements bounded by depth, not by page size', () => {
  it('issues → sections → category, papers', async () => {
    const counts: number[] = [];
    for (const n of SIZES) {
      const { count, data } = await statementsFor(
        `{ issues(first: ${n}) { edges { node { title sections { number category { name } papers { title } } } } } }`,
      );
      expect(data.issues.edges).toHaveLength(n);
      counts.push(count);
    }
    // issues; sections with their categories and their papers (one JSON array per section)
    expect(counts).toEqual([2, 2, 2]);
  });

  it('categories → papers(first: N) → issue', async () => {
    const counts: number[] = [];
    for (const n of SIZES) {
      const { count, data } = await statementsFor(
        `{ categories { name papers(first: ${n}) { edges { node { title issue { title } } } } } }`,
      );
      expect(data.categories).toHaveLength(12);
      expect(data.categories[0].papers.edges).toHaveLength(n);
      counts.push(count);
    }
    // the categories, every category's page and the papers' editions: one statement
    expect(counts).toEqual([1, 1, 1]);
  });

  it('the editions come along with the pages however the client selects them', async () => {
    const shapes = [
      `{ categories { papers(first: 5) { nodes { issue { slug } } } } }`,
      `{ categories { papers(first: 5) { ... on PaperConnection { edges { node { ...P } } } } } }
       fragment P on Paper { title issue { slug title } }`,
    ];
    for (const query of shapes) {
      const { count, data } = await statementsFor(query);
      expect(count).toBe(1);
      const first = data.categories[0].papers;
      const papers = first.nodes ?? first.edges.map((e: { node: unknown }) => e.node);
      expect(papers[0].issue.slug).toMatch(/\S/);
    }
    // the editions built in that statement are the same as when loaded on their own
    const fields =
      'id slug title subtitle weekStart weekEnd intro outro asides { title body } status publishedAt version createdAt updatedAt';
    const along = await statementsFor(`{ categories { papers(first: 3) { nodes { issue { ${fields} } } } } }`);
    const editions = along.data.categories.flatMap((c: any) => c.papers.nodes.map((n: any) => n.issue));
    expect(editions.length).toBeGreaterThan(0);
    for (const edition of editions.slice(0, 5)) {
      const alone = await statementsFor(`{ issue(slug: "${edition.slug}") { ${fields} } }`);
      expect(edition).toEqual(alone.data.issue);
    }
    // only the edition's fields that are selected come along (here its title): the rest of the
    // query, reading the same edition in full elsewhere, still gets every field right
    const slug = editions[0].slug;
    const partial = await statementsFor(
      `{ categories { papers(first: 3) { nodes { issue { title id sections { number } } } } } again: issue(slug: "${slug}") { ${fields} } }`,
    );
    const alone = await statementsFor(`{ issue(slug: "${slug}") { ${fields} } }`);
    expect(partial.data.again).toEqual(alone.data.issue);
    const carried = partial.data.categories.flatMap((c: any) => c.papers.nodes.map((n: any) => n.issue));
    expect(carried.find((i: any) => i.id === alone.data.issue.id)).toMatchObject({ title: alone.data.issue.title });
    expect(carried.every((i: any) => i.sections.length > 0)).toBe(true);
    // a field that needs the whole edition (markdown) gets it
    const whole = await statementsFor(`{ categories { papers(first: 1) { nodes { issue { slug markdown } } } } }`);
    const firstIssue = whole.data.categories[0].papers.nodes[0].issue;
    const itsMarkdown = await statementsFor(`{ issue(slug: "${firstIssue.slug}") { markdown } }`);
    expect(firstIssue.markdown).toBe(itsMarkdown.data.issue.markdown);
    // without the edition: categories and the pages, nothing more
    const { count } = await statementsFor(`{ categories { papers(first: 5) { nodes { title } } } }`);
    expect(count).toBe(1);
    // a category's page further down (its own statement) and a page of another shape under an alias
    const mixed = await statementsFor(
      `{ categories { slug papers(first: 2) { nodes { title } } older: papers(last: 2) { nodes { title } } } }`,
    );
    expect(mixed.count).toBe(2);
    expect(mixed.data.categories[0].papers.nodes).toHaveLength(2);
    expect(mixed.data.categories[0].older.nodes).toHaveLength(2);
  });

  it('a category listing read in one statement gives what each category gives on its own', async () => {
    const page = `papers(first: $n, after: $after, filter: $filter, orderBy: { field: WEEK, direction: ASC }) {
      nodes { number title issue { slug weekStart } } pageInfo { endCursor hasNextPage } totalCount }`;
    const vars = { n: 2, filter: { weekFrom: '2017-01-01' } };
    const one = await gql(
      app,
      `query ($n: Int, $after: String, $filter: PaperFilter) { categories { slug ${page} } }`,
      vars,
    );
    expect(one.body.errors).toBeUndefined();
    const categories = one.body.data!.categories;
    expect(categories[0].papers.nodes).toHaveLength(2);
    expect(categories[0].papers.nodes[0].issue.weekStart >= '2017-01-01').toBe(true);
    const second = await gql(
      app,
      `query ($n: Int, $after: String, $filter: PaperFilter) { categories { slug ${page} } }`,
      { ...vars, after: categories[0].papers.pageInfo.endCursor },
    );
    expect(second.body.errors).toBeUndefined();
    for (const [i, c] of categories.slice(0, 4).entries()) {
      const alone = await gql(
        app,
        `query ($slug: String!, $n: Int, $after: String, $filter: PaperFilter) { category(slug: $slug) { ${page} } }`,
        {
          ...vars,
          slug: c.slug,
        },
      );
      expect(c.papers).toEqual(alone.body.data!.category.papers);
      if (i === 0) {
        const next = await gql(
          app,
          `query ($slug: String!, $n: Int, $after: String, $filter: PaperFilter) { category(slug: $slug) { ${page} } }`,
          {
            ...vars,
            slug: c.slug,
            after: c.papers.pageInfo.endCursor,
          },
        );
        expect(second.body.data!.categories[0].papers).toEqual(next.body.data!.category.papers);
      }
    }
    // the same page under two aliases, each reading other columns: each gets what it selected
    const full = await gql(
      app,
      `{ categories { slug papers(first: 2) { nodes { id title url arxivId version createdAt updatedAt } } } }`,
    );
    const split = await gql(
      app,
      `{ categories { slug a: papers(first: 2) { nodes { title } } b: papers(first: 2) { edges { node { id url arxivId version createdAt updatedAt } } } } }`,
    );
    expect(split.body.errors).toBeUndefined();
    for (const [i, c] of split.body.data!.categories.entries()) {
      const want = full.body.data!.categories[i].papers.nodes;
      expect(c.a.nodes.map((n: any) => n.title)).toEqual(want.map((n: any) => n.title));
      expect(c.b.edges.map((e: any) => e.node)).toEqual(want.map(({ title: _t, ...rest }: any) => rest));
      expect(want.every((n: any) => n.createdAt && n.title)).toBe(true);
    }
    // arguments the page cannot take are reported by the field, as without the one-statement listing
    const bad = await gql(app, `{ categories { papers(first: 1000) { nodes { title } } } }`);
    expect(bad.body.errors?.[0]?.message).toMatch(/first/);
  });

  it('issues → papers connection with totalCount → category; plus paperCount', async () => {
    const counts: number[] = [];
    for (const n of SIZES) {
      const { count } = await statementsFor(
        `{ issues(first: ${n}) { totalCount nodes { paperCount papers(first: ${Math.min(n, 12)}) { totalCount nodes { number category { slug } issue { slug } } } } } }`,
      );
      counts.push(count);
    }
    // issues, count(issues), paperCount (one grouped count), papers page, papers totalCount, categories.
    // Issue.paperCount and papers.totalCount have the same (empty) filter and share one loader.
    expect(counts[0]).toBe(counts[1]);
    expect(counts[1]).toBe(counts[2]);
    expect(counts[0]).toBeLessThanOrEqual(6);
  });

  it('Query.papers(first: N) → issue → sections → papers', async () => {
    const counts: number[] = [];
    for (const n of SIZES) {
      const { count } = await statementsFor(
        `{ papers(first: ${n}) { nodes { title category { name } issue { title sections { category { slug } papers { number } } } } } }`,
      );
      counts.push(count);
    }
    // papers, categories, issues, sections, categories of those sections (only the
    // ones not already loaded for the papers), papers by section: one per level.
    for (const c of counts) expect(c).toBeLessThanOrEqual(6);
  });

  it('sections carry only the paper columns selected below them; the same papers elsewhere in the query are complete', async () => {
    const fields = 'id number title url arxivId version createdAt updatedAt';
    const full = await statementsFor(`{ issues(first: 2) { nodes { slug sections { papers { ${fields} } } } } }`);
    const slug = full.data.issues.nodes[0].slug;
    const want = full.data.issues.nodes[0].sections[0].papers[0];
    expect(want.createdAt).toBeTruthy();
    const mixed = await statementsFor(
      `{ issues(first: 2) { nodes { sections { papers { id title } } } } one: paper(issue: "${slug}", number: "${want.number}") { ${fields} }
         again: issue(slug: "${slug}") { sections { papers { ${fields} } } } }`,
    );
    expect(mixed.data.issues.nodes[0].sections[0].papers[0]).toEqual({ id: want.id, title: want.title });
    expect(mixed.data.one).toEqual(want);
    expect(mixed.data.again.sections[0].papers[0]).toEqual(want);
  });

  it('node lookups batch: nodes(ids) of 100 papers is one statement (plus their issues)', async () => {
    const page = await gql(app, `{ papers(first: 100) { nodes { id } } }`);
    const ids = page.body.data!.papers.nodes.map((n: any) => n.id);
    tdb.resetStatements();
    const res = await gql(app, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Paper { title issue { slug } } } }`, {
      ids,
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.nodes).toHaveLength(100);
    expect(tdb.statements.length).toBe(2);
  });
});
