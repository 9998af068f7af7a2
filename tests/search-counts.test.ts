/**
 * totalCount and facets above EXACT_COUNT_BOUND (issue 18): an estimate from
 * the first matches counted, extrapolated over the part of the table they
 * were found in — close to the real number for a word spread over the whole
 * archive and for one of recent weeks only (where the planner's statistics,
 * or a density taken from the start of the table, are far off).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { sql } from '../src/db/orm.js';
import { EXACT_COUNT_BOUND } from '../src/db/queries/search.js';
import { selectRows } from '../src/db/queries/util.js';
import { analyzeArchive } from '../src/db/seed.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';
import { graphql } from './graphql.js';

let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  // 5 000 papers, written week after week (ids in that order)
  await generateArchive(tdb.db, { editions: 250, papersPerIssue: 20, categories: 6, seed: 5, summaryWords: [8, 12] });
  // A word in nine papers of ten, one in the newest half only, one in 1 500 papers.
  await tdb.db.execute(sql`UPDATE papers SET summary = summary || ' Zorblax.' WHERE id % 10 <> 0`);
  await tdb.db.execute(
    sql`UPDATE papers SET summary = summary || ' Quuxite.' WHERE id > (SELECT min(id) + 2500 FROM papers)`,
  );
  await tdb.db.execute(sql`UPDATE papers SET summary = summary || ' Flimbo.' WHERE id % 10 < 3`);
  // The rows back in the order they were written (an update writes a row's new version at the table's end).
  await tdb.db.execute(sql`CLUSTER papers USING papers_pkey`);
  await analyzeArchive(tdb);
  app = createApp({ db: tdb.db });
}, 180_000);

afterAll(async () => {
  await tdb?.destroy();
});

const COUNTS = graphql(`query Counts($q: String!) {
  searchPapers(query: $q, first: 1) { totalCount totalCountIsExact facets { category { slug } count } }
}`);

async function counts(q: string) {
  const res = await gql(app, COUNTS, { q });
  expect(res.body.errors, q).toBeUndefined();
  return res.body.data!.searchPapers;
}

async function truth(word: string): Promise<number> {
  const [row] = await selectRows<{ n: number }>(
    tdb.db,
    sql`SELECT count(*)::int AS n FROM papers p WHERE p.search_vector @@ websearch_to_tsquery('english', ${word}::text)`,
  );
  return Number(row?.n);
}

describe('counts above the exact bound', () => {
  it.each([
    ['zorblax', 'spread over the whole archive'],
    ['quuxite', 'in the newest half only'],
    ['"zorblax quuxite"', 'a phrase'],
  ])('estimates %s (%s) within 5 %%, facets adding up to it', async (q) => {
    const real = await truth(q);
    expect(real).toBeGreaterThan(EXACT_COUNT_BOUND);
    const r = await counts(q);
    expect(r.totalCountIsExact).toBe(false);
    expect(r.totalCount).toBeGreaterThan(EXACT_COUNT_BOUND);
    expect(Math.abs(r.totalCount - real) / real, `${q}: ${r.totalCount} for ${real}`).toBeLessThan(0.05);
    expect(r.facets.reduce((n, f) => n + f.count, 0)).toBe(r.totalCount);
    expect(new Set(r.facets.map((f) => f.category.slug)).size).toBe(r.facets.length);
  });

  it('counts exactly up to the bound', async () => {
    const r = await counts('flimbo');
    expect(r.totalCountIsExact).toBe(true);
    expect(r.totalCount).toBe(await truth('flimbo'));
    expect(r.totalCount).toBeLessThanOrEqual(EXACT_COUNT_BOUND);
  });
});
