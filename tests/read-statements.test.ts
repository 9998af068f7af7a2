import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { graphql } from './graphql.js';
import { gql } from './helpers/http.js';

// Statements per request of the benchmark's one-paper read and of a repeated search (issue 17).
let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: 12, papersPerIssue: 12, categories: 6, seed: 5 });
  app = createApp({ db: tdb.db });
});
afterAll(async () => {
  await tdb?.destroy();
});

const SLUG = graphql(`
  query Slug {
    issues(first: 1) {
      nodes {
        slug
        sections {
          number
          category {
            name
          }
          papers {
            number
            title
          }
        }
      }
    }
  }
`);

const PAPER = graphql(`
  query Paper($issue: String!, $number: String!) {
    paper(issue: $issue, number: $number) {
      title
      summary
      category {
        name
      }
      issue {
        title
        slug
      }
    }
  }
`);

const SEARCH = graphql(`
  query Search($q: String!) {
    searchPapers(query: $q, first: 5) {
      edges {
        node {
          title
        }
        matches {
          field
          highlights {
            start
          }
        }
      }
    }
  }
`);

const SEARCH_TITLES = graphql(`
  query SearchTitles($q: String!) {
    searchPapers(query: $q, first: 5) {
      edges {
        node {
          title
        }
      }
    }
  }
`);

const SEARCH_EDITIONS = graphql(`
  query SearchEditions($q: String!, $orderBy: SearchOrder) {
    searchPapers(query: $q, first: 8, orderBy: $orderBy) {
      edges {
        node {
          id
          title
          issue {
            id
            title
            slug
            weekStart
            publishedAt
            version
          }
          again: issue {
            id
          }
        }
      }
    }
  }
`);

const SEARCH_NO_EDITIONS = graphql(`
  query SearchNoEditions($q: String!, $orderBy: SearchOrder) {
    searchPapers(query: $q, first: 8, orderBy: $orderBy) {
      edges {
        node {
          id
          title
        }
      }
    }
  }
`);

const SEARCH_EDITION_IDS = graphql(`
  query SearchEditionIds($q: String!) {
    searchPapers(query: $q, first: 8) {
      edges {
        node {
          id
          issue {
            id
            paperCount
          }
        }
      }
    }
  }
`);

const SEARCH_EDITION_MARKDOWN = graphql(`
  query SearchEditionMarkdown($q: String!) {
    searchPapers(query: $q, first: 8) {
      edges {
        node {
          id
          issue {
            slug
            markdown
          }
        }
      }
    }
  }
`);

const EDITIONS = graphql(`
  query Editions {
    issues(first: 100) {
      nodes {
        id
        title
        slug
        weekStart
        publishedAt
        version
        paperCount
        markdown
      }
    }
  }
`);

describe('statements per read', () => {
  it('paper(issue, number) with its category and edition is one statement, and the same data as the loaders give', async () => {
    const listed = (await gql(app, SLUG)).body.data!;
    const issue = listed.issues.nodes[0]!;
    const section = issue.sections[0]!;
    const expected = section.papers[0]!;
    tdb.resetStatements();
    const found = (await gql(app, PAPER, { issue: issue.slug, number: expected.number })).body.data!;
    expect(tdb.statements).toHaveLength(1);
    expect(found.paper?.title).toBe(expected.title);
    expect(found.paper?.category.name).toBe(section.category.name);
    expect(found.paper?.issue.slug).toBe(issue.slug);
    expect(found.paper?.summary.length).toBeGreaterThan(0);
  });

  it('a search sent again reuses what it learnt of its text: fewer statements, the same page', async () => {
    const text = 'reasoning models';
    tdb.resetStatements();
    const first = (await gql(app, SEARCH, { q: text })).body;
    const firstCount = tdb.statements.length;
    tdb.resetStatements();
    const again = (await gql(app, SEARCH, { q: text })).body;
    const againCount = tdb.statements.length;
    expect(first.errors).toBeUndefined();
    expect(first.data?.searchPapers.edges.length).toBeGreaterThan(0);
    expect(again).toEqual(first);
    // the parse of the text (and the plan choice) is not asked of the database again
    expect(againCount).toBeLessThan(firstCount);
    expect(tdb.statements.some((s) => s.includes('querytree('))).toBe(false);
  });

  it("a search page carries its papers' editions: no statement more than without them, the editions the loader gives", async () => {
    const editions = (await gql(app, EDITIONS)).body.data!.issues.nodes;
    const byId = new Map(editions.map((e) => [e.id, e]));
    // one word (title terms), two words (pairs), a phrase, a phrase with a word, and NEWEST: each page statement
    for (const [q, orderBy] of [
      ['reasoning', undefined],
      ['reasoning models', undefined],
      ['"language models"', undefined],
      ['"language models" reasoning', undefined],
      ['reasoning', 'NEWEST'],
    ] as const) {
      await gql(app, SEARCH_NO_EDITIONS, { q, orderBy });
      tdb.resetStatements();
      const without = (await gql(app, SEARCH_NO_EDITIONS, { q, orderBy })).body.data!.searchPapers.edges;
      const statementsWithout = tdb.statements.length;
      tdb.resetStatements();
      const { body } = await gql(app, SEARCH_EDITIONS, { q, orderBy });
      expect(body.errors, q).toBeUndefined();
      const edges = body.data!.searchPapers.edges;
      expect(edges.length, q).toBeGreaterThan(0);
      expect(
        edges.map((e) => e.node.id),
        q,
      ).toEqual(without.map((e) => e.node.id));
      // the page's own statements, no statement of the editions' loader
      expect(tdb.statements.length, q).toBe(statementsWithout);
      expect(
        tdb.statements.filter((x) => /from "issues"/i.test(x)),
        q,
      ).toEqual([]);
      for (const { node } of edges) {
        const e = byId.get(node.issue.id)!;
        expect(node.issue, q).toEqual({
          id: e.id,
          title: e.title,
          slug: e.slug,
          weekStart: e.weekStart,
          publishedAt: e.publishedAt,
          version: e.version,
        });
        expect(node.again.id).toBe(e.id);
      }
    }
    // Only fields resolved by the edition's id: no column carried, the same ids (paperCount by its own loader).
    await gql(app, SEARCH_EDITION_IDS, { q: 'reasoning' });
    const ids = (await gql(app, SEARCH_EDITION_IDS, { q: 'reasoning' })).body.data!.searchPapers.edges;
    for (const { node } of ids) expect(node.issue.paperCount).toBe(byId.get(node.issue.id)!.paperCount);
    // A field that needs the whole row (markdown): the whole edition carried, the same text.
    const whole = (await gql(app, SEARCH_EDITION_MARKDOWN, { q: 'reasoning' })).body;
    expect(whole.errors).toBeUndefined();
    for (const { node } of whole.data!.searchPapers.edges) {
      expect(node.issue.markdown).toBe(editions.find((e) => e.slug === node.issue.slug)!.markdown);
    }
  });

  it('a search that does not show its matches does not compute headlines; the same papers in the same order', async () => {
    const text = 'reasoning models';
    tdb.resetStatements();
    const withMatches = (await gql(app, SEARCH, { q: text })).body;
    expect(tdb.statements.some((s) => s.includes('ts_headline'))).toBe(true);
    expect(withMatches.data!.searchPapers.edges.some((e) => e.matches.length > 0)).toBe(true);
    tdb.resetStatements();
    const titles = (await gql(app, SEARCH_TITLES, { q: text })).body;
    expect(titles.errors).toBeUndefined();
    expect(tdb.statements.some((s) => s.includes('ts_headline'))).toBe(false);
    expect(titles.data!.searchPapers.edges.map((e) => e.node.title)).toEqual(
      withMatches.data!.searchPapers.edges.map((e) => e.node.title),
    );
  });
});
