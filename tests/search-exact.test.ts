/**
 * RELEVANCE ranks every match (issue 18): a page built from the matches with
 * the query's words in their titles (src/search/papers.ts, rankedPage) must be
 * the page a ranking of every match gives, page after page; and counts are
 * exact up to EXACT_COUNT_BOUND, scaled estimates above it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { sql } from '../src/db/orm.js';
import { type SearchTerms, scaleCounts, scopeMaxScoreOutside, searchPage } from '../src/db/queries/search.js';
import { analyzeArchive } from '../src/db/seed.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { parseSearchQuery } from '../src/search/query.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';
import { graphql } from './graphql.js';

let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: 60, papersPerIssue: 12, categories: 6, seed: 11 });
  await analyzeArchive(tdb);
  app = createApp({ db: tdb.db });
}, 120_000);

afterAll(async () => {
  await tdb?.destroy();
});

const PAGE = graphql(`query ExactPage($q: String!, $after: String) {
  searchPapers(query: $q, first: 7, after: $after) {
    exhaustive relaxed totalCount totalCountIsExact facets { count }
    pageInfo { hasNextPage endCursor }
    edges { score node { title } }
  }
}`);

async function page(q: string, after: string | null) {
  const res = await gql(app, PAGE, { q, after });
  expect(res.body.errors, q).toBeUndefined();
  return res.body.data!.searchPapers;
}

// Single words (the title scope), pairs and triples (the title-all scope first), a negation.
const QUERIES = [
  'reasoning',
  'reward',
  'kernel',
  'hallucination',
  'trajectory',
  'reward model',
  'speculative decoding',
  'memory cache',
  'vision audio',
  'policy agent benchmark',
  'model training',
  'scaling -law',
];

describe('exact RELEVANCE over every match', () => {
  it('the first four pages (of 7) are the ranking of every match, in order, and say so', async () => {
    const tierOnly: string[] = [];
    for (const q of QUERIES) {
      const terms = parseSearchQuery(q);
      const all = await searchPage(
        tdb.db,
        { terms, order: 'RELEVANCE', mode: 'text', cursor: null, limit: 28, scope: 'all', headlines: false },
        { drafts: false },
      );
      expect(all.length, q).toBeGreaterThan(7);
      const seen: Array<{ title: string; score: number }> = [];
      let after: string | null = null;
      for (let n = 0; n < 4; n++) {
        const r = await page(q, after);
        expect(r.exhaustive, q).toBe(true);
        expect(r.relaxed, q).toBe(false);
        expect(r.totalCountIsExact, q).toBe(true);
        expect(
          r.facets.reduce((n, f) => n + f.count, 0),
          q,
        ).toBe(r.totalCount);
        seen.push(...r.edges.map((e) => ({ title: e.node.title, score: e.score })));
        if (!r.pageInfo.hasNextPage) break;
        after = r.pageInfo.endCursor;
      }
      const expected = all.slice(0, seen.length).map((h) => ({ title: h.title, score: h.score }));
      expect(
        seen.map((s) => s.score),
        q,
      ).toEqual(expected.map((s) => s.score));
      expect(seen.length, q).toBe(Math.min(28, all.length));
      expect(
        seen.map((s) => s.title),
        q,
      ).toEqual(expected.map((s) => s.title));
      if (all[7]!.score > scopeMaxScoreOutside(terms, 'title')) tierOnly.push(q);
    }
    // Both ways were taken: pages the title matches alone decide, and pages that needed every match.
    expect(tierOnly.length).toBeGreaterThan(0);
    expect(tierOnly.length).toBeLessThan(QUERIES.length);
  });

  it('the first page carries its text matches however it was read (title walks and scopes compute them only then)', async () => {
    const MATCHES = graphql(`query ExactMatches($q: String!) {
      searchPapers(query: $q, first: 7) { edges { node { title } matches { field highlights { start end } } } }
    }`);
    for (const q of QUERIES) {
      const res = await gql(app, MATCHES, { q });
      expect(res.body.errors, q).toBeUndefined();
      const edges = res.body.data!.searchPapers.edges;
      expect(edges.length, q).toBe(7);
      for (const e of edges) {
        const marked = e.matches.reduce((n, m) => n + m.highlights.length, 0);
        expect(marked, `${q}: ${e.node.title}`).toBeGreaterThan(0);
      }
    }
  });

  it('the bound outside a title scope is above every score a match outside it gets', async () => {
    for (const q of QUERIES) {
      const terms = parseSearchQuery(q);
      const all = await searchPage(
        tdb.db,
        { terms, order: 'RELEVANCE', mode: 'text', cursor: null, limit: 10_000, scope: 'all', headlines: false },
        { drafts: false },
      );
      const any = await searchPage(
        tdb.db,
        { terms, order: 'RELEVANCE', mode: 'text', cursor: null, limit: 10_000, scope: 'title', headlines: false },
        { drafts: false },
      );
      const every = await searchPage(
        tdb.db,
        { terms, order: 'RELEVANCE', mode: 'text', cursor: null, limit: 10_000, scope: 'title-all', headlines: false },
        { drafts: false },
      );
      const inAny = new Set(any.map((h) => h.id));
      const inEvery = new Set(every.map((h) => h.id));
      const outsideAny = all.filter((h) => !inAny.has(h.id)).map((h) => h.score);
      const outsideEvery = all.filter((h) => !inEvery.has(h.id)).map((h) => h.score);
      expect(Math.max(0, ...outsideAny), q).toBeLessThan(scopeMaxScoreOutside(terms, 'title'));
      expect(Math.max(0, ...outsideEvery), q).toBeLessThan(scopeMaxScoreOutside(terms, 'title-all'));
    }
  });

  it('counts, outside a title scope, runs of a phrase that a title holds without the phrase', async () => {
    // "Group Relative Policy" is a run of the phrase: the title holds it, not the phrase.
    const terms = parseSearchQuery('"group relative policy optimization"');
    const score = await scoreOfRewritten(
      'Group Relative Policy Gradients',
      'We use group relative policy optimization. ',
      6,
      terms,
    );
    expect(score).toBeGreaterThan(3.25 + 0.25); // above the bound of a query without phrases
    expect(score).toBeLessThan(scopeMaxScoreOutside(terms, 'title'));
  });
});

/** The score for `terms` of the newest paper rewritten with `title` and `times` × `sentence` as its summary. */
async function scoreOfRewritten(title: string, sentence: string, times: number, terms: SearchTerms): Promise<number> {
  await tdb.db.execute(sql`UPDATE papers SET title = ${title}, summary = repeat(${sentence}::text, ${times}::int)
      WHERE id = (SELECT max(id) FROM papers)`);
  const all = await searchPage(
    tdb.db,
    { terms, order: 'RELEVANCE', mode: 'text', cursor: null, limit: 100, scope: 'all', headlines: false },
    { drafts: true },
  );
  const paper = all.find((h) => h.title === title);
  expect(paper).toBeDefined();
  return paper!.score;
}

describe('the bound outside the titles holding both words of a two-word query', () => {
  it('holds for a title that holds the text inside other words but not both words', async () => {
    // "Drag Model …" holds "rag model" as letters, not the word `rag`: the text-as-written part is left out of
    // such a title (it counts only in a title holding every group), so the bound of two words (no run outside) holds.
    const terms = parseSearchQuery('rag model');
    const score = await scoreOfRewritten('Drag Model Fitting at Scale', 'rag model ', 40, terms);
    expect(scopeMaxScoreOutside(terms, 'title-all')).toBe(2 + 0.75 + 1 + 0.25);
    expect(score).toBeGreaterThan(2 + 0.75 + 0.9); // the title's `model`, a summary full of both words
    expect(score).toBeLessThan(scopeMaxScoreOutside(terms, 'title-all'));
    // a three-word query keeps room for a run of two of its words outside
    expect(scopeMaxScoreOutside(parseSearchQuery('rag model cache'), 'title-all')).toBe(2 + 1 + 1 + 1 + 0.25);
  });
});

describe('counts in relaxed mode', () => {
  it('count the partial matches the pages rank, exactly below the candidate bound', async () => {
    const r = await page('reasonnig kernell', null);
    expect(r.relaxed).toBe(true);
    expect(r.edges.length).toBeGreaterThan(0);
    expect(r.totalCountIsExact).toBe(true);
    expect(r.totalCount).toBeGreaterThanOrEqual(r.edges.length);
    expect(r.facets.reduce((n, f) => n + f.count, 0)).toBe(r.totalCount);
  });
});

describe('counts above the exact bound', () => {
  it('scaled facets keep their proportions and add up to the estimated total', () => {
    const facets = [
      { categoryId: 1, count: 5_001 },
      { categoryId: 2, count: 3_000 },
      { categoryId: 3, count: 2_000 },
    ];
    const scaled = scaleCounts(facets, 123_457);
    expect(scaled.reduce((n, f) => n + f.count, 0)).toBe(123_457);
    expect(scaled.map((f) => f.categoryId)).toEqual([1, 2, 3]);
    for (const [i, f] of scaled.entries()) {
      expect(Math.abs(f.count - (facets[i]!.count * 123_457) / 10_001)).toBeLessThan(1);
    }
  });
});
