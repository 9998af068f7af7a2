/**
 * papers_terms_idx (migrations 0012–0013) and its query (src/db/queries/terms-query.ts): a phrase's adjacent
 * pairs are indexed as terms, and a statement reading every match through it finds exactly the papers the query
 * matches — the same pages, scores and counts as through the search vector's own index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/db/orm.js';
import {
  type SearchArgs,
  analyzeQuery,
  searchCounts,
  searchFacetsSql,
  searchPageCounted,
} from '../src/db/queries/search.js';
import { PAIR_MAX_BYTES, alternativeTerms, termsQuery } from '../src/db/queries/terms-query.js';
import { selectRows } from '../src/db/queries/util.js';
import { analyzeArchive } from '../src/db/seed.js';
import { BENCH_PHRASES, generateArchive } from '../src/fixtures/generate.js';
import { parseSearchQuery } from '../src/search/query.js';
import { type TestDb, createTestDb } from './helpers/db.js';

describe('the terms query (pure)', () => {
  it('turns each phrase step into the pair of its lexemes, and keeps the other lexemes', () => {
    expect(alternativeTerms(`'vision' <-> 'languag' <-> 'model'`)).toEqual({
      query: `'vision languag' & 'languag model'`,
      pairs: 2,
    });
    // a stop word between two words is a gap (<2>): no pair, both words
    expect(alternativeTerms(`'chain' <2> 'thought'`)).toEqual({ query: `'chain' & 'thought'`, pairs: 0 });
    // & binds looser than <->
    expect(alternativeTerms(`'reward' & 'process' <-> 'supervis'`)).toEqual({
      query: `'process supervis' & 'reward'`,
      pairs: 1,
    });
    // a hyphenated word: the compound, then its parts
    expect(alternativeTerms(`'test-tim' <-> 'test' <-> 'time' <-> 'comput'`)?.query).toBe(
      `'test-tim test' & 'test time' & 'time comput'`,
    );
    expect(alternativeTerms(`'model'`)).toEqual({ query: `'model'`, pairs: 0 });
    expect(alternativeTerms('')).toEqual({ query: '', pairs: 0 });
  });

  it('keeps quotes and backslashes escaped as the tree wrote them', () => {
    expect(alternativeTerms(`'it''s' <-> 'a\\\\b'`)).toEqual({ query: `'it''s a\\\\b'`, pairs: 1 });
  });

  it('reads nothing it does not know: alternatives, negation, parentheses, weights, prefixes', () => {
    for (const tree of [
      `'a' | 'b'`,
      `!'a' <-> 'b'`,
      `( 'a' & 'b' ) <-> 'c'`,
      `'a':A <-> 'b'`,
      `'a':* <-> 'b'`,
      `'a' <->`,
      `<-> 'a'`,
      `'a' 'b'`,
      `'unclosed`,
    ]) {
      expect(alternativeTerms(tree), tree).toBeNull();
    }
  });

  it('leaves out a pair longer than the index holds, and asks for its lexemes instead', () => {
    const long = 'x'.repeat(PAIR_MAX_BYTES);
    expect(alternativeTerms(`'${long}' <-> 'y'`)).toEqual({ query: `'${long}' & 'y'`, pairs: 0 });
  });

  it('joins groups with &, alternatives with |, and leaves out a group it cannot read', () => {
    expect(termsQuery([[`'vision' <-> 'languag' <-> 'model'`, `'vlm'`], [`'workflow'`]])).toBe(
      `( ( 'vision languag' & 'languag model' ) | ( 'vlm' ) ) & ( 'workflow' )`,
    );
    expect(termsQuery([[`'reward' <-> 'model'`], [`'a' | 'b'`]])).toBe(`( 'reward model' )`);
    // (a stop-word alternative makes its group match through its others: left out)
    expect(termsQuery([[`'reward' <-> 'model'`, '']])).toBeNull();
    // no pair anywhere: the search vector's index serves it
    expect(termsQuery([[`'reward'`], [`'model'`]])).toBeNull();
    expect(termsQuery([])).toBeNull();
  });
});

let tdb: TestDb;

/** Papers whose text makes phrases hard: compounds, stop words inside, punctuation, the phrase split by a word. */
const TRICKY = [
  ['Test-time compute for chain-of-thought reasoning', 'We scale test-time compute; the chain of thought grows.'],
  ['Reward models, process-supervised', "A reward model's process supervision, and a model that rewards."],
  ['Vision language workflows', 'A vision-language model in agentic workflows: vision and language models.'],
  ["Back\\slash and it's quotes", 'Paths like C:\\temp\\x and the reward\\model, it\'s "quoted".'],
  ['Language vision model', 'The words of a vision language model, in another order: model language vision.'],
] as const;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: 40, papersPerIssue: 12, categories: 6, seed: 5 });
  const [edition] = await selectRows<{ issue_id: number; section_id: number; category_id: number; week_start: string }>(
    tdb.db,
    sql`SELECT issue_id, section_id, category_id, week_start::text FROM papers ORDER BY id LIMIT 1`,
  );
  for (const [i, [title, summary]] of TRICKY.entries()) {
    await tdb.db.execute(sql`INSERT INTO papers (issue_id, section_id, category_id, week_start, section_number, position, title, summary)
      VALUES (${edition!.issue_id}, ${edition!.section_id}, ${edition!.category_id}, ${edition!.week_start}::date, 1, ${900 + i}::int, ${title}, ${summary})`);
  }
  await analyzeArchive(tdb);
}, 120_000);

afterAll(async () => {
  await tdb?.destroy();
});

const QUERIES = [
  ...BENCH_PHRASES.slice(0, 12).map((p) => `"${p}"`),
  ...BENCH_PHRASES.slice(0, 6).map(
    (p, i) => `"${p}" ${['model', 'reasoning', 'agents', 'data', 'safety', 'workflows'][i]}`,
  ),
  '"test-time compute"',
  'test-time compute',
  'chain-of-thought',
  '"chain of thought" reasoning',
  '"vision language model" workflows',
  '"vision language" -workflows',
  '"reward model" or "process supervision"',
  '"language model" model',
  '"it\'s quotes"',
  '"reward\\model"',
  '"c:\\temp"',
  'Llama-3 "reward model"',
];

const base = (terms: SearchArgs['terms'], termsQuery: string | null): SearchArgs => ({
  terms,
  order: 'RELEVANCE',
  mode: 'text',
  cursor: null,
  limit: 30,
  headlines: false,
  scope: 'all',
  termsQuery,
});

describe('reading every match through the terms index', () => {
  it('finds the same matches, pages, scores and counts as the search vector index', async () => {
    let withPairs = 0;
    for (const query of QUERIES) {
      const terms = parseSearchQuery(query);
      const { termsQuery: q } = await analyzeQuery(tdb.db, terms);
      if (q === null) continue;
      withPairs++;
      for (const vis of [{ drafts: false }, { drafts: true }]) {
        const through = await searchPageCounted(tdb.db, base(terms, q), vis);
        const plain = await searchPageCounted(tdb.db, base(terms, null), vis);
        expect(
          through.rows.map((r) => [r.id, r.score]),
          query,
        ).toEqual(plain.rows.map((r) => [r.id, r.score]));
        expect(through.candidateCount, query).toBe(plain.candidateCount);
        // (facets in the order the statement grouped them: compared by category)
        const sorted = async (termsQuery: string | null) => {
          const c = await searchCounts(tdb.db, { terms, mode: 'text', termsQuery }, vis);
          return { ...c, facets: c.facets.sort((a, b) => a.categoryId - b.categoryId) };
        };
        expect(await sorted(q), query).toEqual(await sorted(null));
      }
    }
    // (most of the list holds a phrase step)
    expect(withPairs).toBeGreaterThanOrEqual(20);
  });

  it('finds the papers written with tricky text', async () => {
    for (const [query, title] of [
      ['"test-time compute"', TRICKY[0][0]],
      ['"vision language model" workflows', TRICKY[2][0]],
      ['"reward model" process-supervised', TRICKY[1][0]],
    ] as const) {
      const terms = parseSearchQuery(query);
      const { termsQuery: q } = await analyzeQuery(tdb.db, terms);
      expect(q, query).not.toBeNull();
      const page = await searchPageCounted(tdb.db, base(terms, q), { drafts: false });
      expect(
        page.rows.map((r) => r.title),
        query,
      ).toContain(title);
    }
    // the words of the phrase, not together: not a match
    const terms = parseSearchQuery('"language vision model" order');
    const { termsQuery: q } = await analyzeQuery(tdb.db, terms);
    const page = await searchPageCounted(tdb.db, base(terms, q), { drafts: false });
    expect(page.rows.map((r) => r.title)).not.toContain(TRICKY[2][0]);
  });

  it('follows every write: a paper changed to hold a phrase is found, changed back it is not', async () => {
    const terms = parseSearchQuery('"zyxwv quutz"');
    const { termsQuery: q } = await analyzeQuery(tdb.db, terms);
    expect(q).toBe(`( 'zyxwv quutz' )`);
    const ids = async () => (await searchPageCounted(tdb.db, base(terms, q), { drafts: true })).rows.map((r) => r.id);
    const [paper] = await selectRows<{ id: number }>(tdb.db, sql`SELECT id FROM papers ORDER BY id LIMIT 1`);
    await tdb.db.execute(sql`UPDATE papers SET summary = summary || ' zyxwv quutz' WHERE id = ${paper!.id}`);
    expect(await ids()).toEqual([paper!.id]);
    await tdb.db.execute(sql`UPDATE papers SET summary = 'quutz zyxwv' WHERE id = ${paper!.id}`);
    expect(await ids()).toEqual([]);
  });

  it('is an index the planner can read for the statement (the same expression)', async () => {
    // (on a table this small a sequential scan costs less: PostgreSQL then checks the query first, the terms after)
    const terms = parseSearchQuery('"vision language model" workflows');
    const { termsQuery: q } = await analyzeQuery(tdb.db, terms);
    const text = await tdb.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      const plan = await selectRows<{ 'QUERY PLAN': string }>(
        tx,
        sql`EXPLAIN ${searchFacetsSql({ terms, mode: 'text', termsQuery: q }, { drafts: false })}`,
      );
      return plan.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(text).toContain('Bitmap Index Scan on papers_terms_idx');
  });
});
