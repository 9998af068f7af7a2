import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { type AnyDocument, type ResultOfDocument, type VariableArgs, gql } from './helpers/http.js';
import { graphql } from './graphql.js';

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
async function statementsFor<D extends AnyDocument>(
  query: D,
  ...args: VariableArgs<D>
): Promise<{ count: number; data: ResultOfDocument<D> }> {
  tdb.resetStatements();
  const res = await gql(app, query, ...args);
  expect(res.body.errors).toBeUndefined();
  return { count: tdb.statements.length, data: res.body.data! };
}

// Every column of an edition, read through a category's page and on its own.
const IssueFields = graphql(`
  fragment IssueFields on Issue {
    id slug title subtitle weekStart weekEnd intro outro asides { title body } status publishedAt version createdAt updatedAt
  }
`);
const ISSUE_ALONE = graphql(`query IssueAlone($slug: String!) { issue(slug: $slug) { ...IssueFields } }`, [
  IssueFields,
]);

// One category page, in a listing or on its own (first, after and filter as variables).
const CategoryPage = graphql(`
  fragment CategoryPage on Category {
    papers(first: $n, after: $after, filter: $filter, orderBy: { field: WEEK, direction: ASC }) {
      nodes { number title issue { slug weekStart } } pageInfo { endCursor hasNextPage } totalCount
    }
  }
`);
const LISTING = graphql(
  `query Listing($n: Int, $after: String, $filter: PaperFilter) { categories { slug ...CategoryPage } }`,
  [CategoryPage],
);
const ONE_CATEGORY = graphql(
  `query OneCategory($slug: String!, $n: Int, $after: String, $filter: PaperFilter) { category(slug: $slug) { ...CategoryPage } }`,
  [CategoryPage],
);

// Every column of a paper, through an edition's sections and on its own.
const PaperFields = graphql(
  `fragment PaperFields on Paper { id number title url arxivId version createdAt updatedAt }`,
);

const SIZES = [1, 20, 100];

describe('nested queries cost statements bounded by depth, not by page size', () => {
  it('issues → sections → category, papers', async () => {
    const counts: number[] = [];
    for (const n of SIZES) {
      const { count, data } = await statementsFor(
        graphql(
          `query IssuesSections($n: Int) { issues(first: $n) { edges { node { title sections { number category { name } papers { title } } } } } }`,
        ),
        { n },
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
        graphql(
          `query CategoriesPapers($n: Int) { categories { name papers(first: $n) { edges { node { title issue { title } } } } } }`,
        ),
        { n },
      );
      expect(data.categories).toHaveLength(12);
      expect(data.categories[0]!.papers.edges).toHaveLength(n);
      counts.push(count);
    }
    // the categories, every category's page and the papers' editions: one statement
    expect(counts).toEqual([1, 1, 1]);
  });

  it('the editions come along with the pages however the client selects them', async () => {
    const byNodes = await statementsFor(
      graphql(`query PagesNodes { categories { papers(first: 5) { nodes { issue { slug } } } } }`),
    );
    const byFragment = await statementsFor(
      graphql(`query PagesFragment { categories { papers(first: 5) { ... on PaperConnection { edges { node { ...P } } } } } }
       fragment P on Paper { title issue { slug title } }`),
    );
    const shapes = [
      { count: byNodes.count, papers: byNodes.data.categories[0]!.papers.nodes },
      { count: byFragment.count, papers: byFragment.data.categories[0]!.papers.edges.map((e) => e.node) },
    ];
    for (const { count, papers } of shapes) {
      expect(count).toBe(1);
      expect(papers[0]!.issue.slug).toMatch(/\S/);
    }
    // the editions built in that statement are the same as when loaded on their own
    const along = await statementsFor(
      graphql(`query EditionsAlong { categories { papers(first: 3) { nodes { issue { ...IssueFields } } } } }`, [
        IssueFields,
      ]),
    );
    const editions = along.data.categories.flatMap((c) => c.papers.nodes.map((n) => n.issue));
    expect(editions.length).toBeGreaterThan(0);
    for (const edition of editions.slice(0, 5)) {
      const alone = await statementsFor(ISSUE_ALONE, { slug: edition.slug });
      expect(edition).toEqual(alone.data.issue);
    }
    // only the edition's fields that are selected come along (here its title): the rest of the
    // query, reading the same edition in full elsewhere, still gets every field right
    const slug = editions[0]!.slug;
    const partial = await statementsFor(
      graphql(
        `query PartialAlong($slug: String!) { categories { papers(first: 3) { nodes { issue { title id sections { number } } } } } again: issue(slug: $slug) { ...IssueFields } }`,
        [IssueFields],
      ),
      { slug },
    );
    const alone = (await statementsFor(ISSUE_ALONE, { slug })).data.issue!;
    expect(partial.data.again).toEqual(alone);
    const carried = partial.data.categories.flatMap((c) => c.papers.nodes.map((n) => n.issue));
    expect(carried.find((i) => i.id === alone.id)).toMatchObject({ title: alone.title });
    expect(carried.every((i) => i.sections.length > 0)).toBe(true);
    // a field that needs the whole edition (markdown) gets it
    const whole = await statementsFor(
      graphql(`query MarkdownAlong { categories { papers(first: 1) { nodes { issue { slug markdown } } } } }`),
    );
    const firstIssue = whole.data.categories[0]!.papers.nodes[0]!.issue;
    const itsMarkdown = await statementsFor(
      graphql(`query MarkdownAlone($slug: String!) { issue(slug: $slug) { markdown } }`),
      { slug: firstIssue.slug },
    );
    expect(firstIssue.markdown).toBe(itsMarkdown.data.issue!.markdown);
    // without the edition: categories and the pages, nothing more
    const { count } = await statementsFor(
      graphql(`query PagesOnly { categories { papers(first: 5) { nodes { title } } } }`),
    );
    expect(count).toBe(1);
    // a category's page further down (its own statement) and a page of another shape under an alias
    const mixed = await statementsFor(
      graphql(
        `query TwoShapes { categories { slug papers(first: 2) { nodes { title } } older: papers(last: 2) { nodes { title } } } }`,
      ),
    );
    expect(mixed.count).toBe(2);
    expect(mixed.data.categories[0]!.papers.nodes).toHaveLength(2);
    expect(mixed.data.categories[0]!.older.nodes).toHaveLength(2);
  });

  it('a category listing read in one statement gives what each category gives on its own', async () => {
    const vars = { n: 2, filter: { weekFrom: '2017-01-01' } };
    const one = await gql(app, LISTING, vars);
    expect(one.body.errors).toBeUndefined();
    const categories = one.body.data!.categories;
    expect(categories[0]!.papers.nodes).toHaveLength(2);
    expect(categories[0]!.papers.nodes[0]!.issue.weekStart >= '2017-01-01').toBe(true);
    const second = await gql(app, LISTING, { ...vars, after: categories[0]!.papers.pageInfo.endCursor });
    expect(second.body.errors).toBeUndefined();
    for (const [i, c] of categories.slice(0, 4).entries()) {
      const alone = await gql(app, ONE_CATEGORY, {
        ...vars,
        slug: c.slug,
      });
      expect(c.papers).toEqual(alone.body.data!.category!.papers);
      if (i === 0) {
        const next = await gql(app, ONE_CATEGORY, {
          ...vars,
          slug: c.slug,
          after: c.papers.pageInfo.endCursor,
        });
        expect(second.body.data!.categories[0]!.papers).toEqual(next.body.data!.category!.papers);
      }
    }
    // the same page under two aliases, each reading other columns: each gets what it selected
    const full = await gql(
      app,
      graphql(
        `query FullPage { categories { slug papers(first: 2) { nodes { id title url arxivId version createdAt updatedAt } } } }`,
      ),
    );
    const split = await gql(
      app,
      graphql(
        `query SplitPage { categories { slug a: papers(first: 2) { nodes { title } } b: papers(first: 2) { edges { node { id url arxivId version createdAt updatedAt } } } } }`,
      ),
    );
    expect(split.body.errors).toBeUndefined();
    for (const [i, c] of split.body.data!.categories.entries()) {
      const want = full.body.data!.categories[i]!.papers.nodes;
      expect(c.a.nodes.map((n) => n.title)).toEqual(want.map((n) => n.title));
      expect(c.b.edges.map((e) => e.node)).toEqual(want.map(({ title: _t, ...rest }) => rest));
      expect(want.every((n) => n.createdAt && n.title)).toBe(true);
    }
    // arguments the page cannot take are reported by the field, as without the one-statement listing
    const bad = await gql(app, graphql(`query TooLongPage { categories { papers(first: 1000) { nodes { title } } } }`));
    expect(bad.body.errors?.[0]?.message).toMatch(/first/);
  });

  it('issues → papers connection with totalCount → category; plus paperCount', async () => {
    const counts: number[] = [];
    for (const n of SIZES) {
      const { count } = await statementsFor(
        graphql(
          `query IssuesPapers($n: Int, $m: Int) { issues(first: $n) { totalCount nodes { paperCount papers(first: $m) { totalCount nodes { number category { slug } issue { slug } } } } } }`,
        ),
        { n, m: Math.min(n, 12) },
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
        graphql(
          `query PapersIssueSections($n: Int) { papers(first: $n) { nodes { title category { name } issue { title sections { category { slug } papers { number } } } } } }`,
        ),
        { n },
      );
      counts.push(count);
    }
    // papers, categories, issues, sections, categories of those sections (only the
    // ones not already loaded for the papers), papers by section: one per level.
    for (const c of counts) expect(c).toBeLessThanOrEqual(6);
  });

  it('sections carry only the paper columns selected below them; the same papers elsewhere in the query are complete', async () => {
    const full = await statementsFor(
      graphql(`query SectionsFull { issues(first: 2) { nodes { slug sections { papers { ...PaperFields } } } } }`, [
        PaperFields,
      ]),
    );
    const slug = full.data.issues.nodes[0]!.slug;
    const want = full.data.issues.nodes[0]!.sections[0]!.papers[0]!;
    expect(want.createdAt).toBeTruthy();
    const mixed = await statementsFor(
      graphql(
        `query SectionsMixed($slug: String!, $number: String!) { issues(first: 2) { nodes { sections { papers { id title } } } } one: paper(issue: $slug, number: $number) { ...PaperFields }
         again: issue(slug: $slug) { sections { papers { ...PaperFields } } } }`,
        [PaperFields],
      ),
      { slug, number: want.number },
    );
    expect(mixed.data.issues.nodes[0]!.sections[0]!.papers[0]).toEqual({ id: want.id, title: want.title });
    expect(mixed.data.one).toEqual(want);
    expect(mixed.data.again!.sections[0]!.papers[0]).toEqual(want);
  });

  it('node lookups batch: nodes(ids) of 100 papers is one statement (plus their issues)', async () => {
    const page = await gql(app, graphql(`query PaperIds { papers(first: 100) { nodes { id } } }`));
    const ids = page.body.data!.papers.nodes.map((n) => n.id);
    tdb.resetStatements();
    const res = await gql(
      app,
      graphql(`query PaperNodes($ids: [ID!]!) { nodes(ids: $ids) { ... on Paper { title issue { slug } } } }`),
      { ids },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.nodes).toHaveLength(100);
    expect(tdb.statements.length).toBe(2);
  });
});
