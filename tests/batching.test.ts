import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/db/generate.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';

// Enough data that page sizes 1, 20 and 100 really return 1, 20 and 100 parents.
let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: 200, papersPerEdition: 12, categories: 12, seed: 3 });
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
    // categories, one LATERAL page query for all categories, issues
    expect(counts).toEqual([3, 3, 3]);
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

  it('node lookups batch: nodes(ids) of 100 papers is one statement (plus their issues)', async () => {
    const page = await gql(app, `{ papers(first: 100) { nodes { id } } }`);
    const ids = page.body.data!.papers.nodes.map((n: any) => n.id);
    tdb.resetStatements();
    const res = await gql(app, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Paper { title issue { slug } } } }`, { ids });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.nodes).toHaveLength(100);
    expect(tdb.statements.length).toBe(2);
  });
});
