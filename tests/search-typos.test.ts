/**
 * Typo correction against the archive's vocabulary (src/search/typos.ts,
 * src/search/papers.ts correctedTerms): a word that matches no paper is
 * replaced by the closest common lexeme of the archive, and the results are
 * that query's, ranked, counted, highlighted and paged as its own, marked
 * relaxed. Words that match, quoted phrases and words too far from any
 * lexeme are left to the other relaxations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { commonLexemes, searchableWords } from '../src/db/queries/search.js';
import { analyzeArchive } from '../src/db/seed.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { allowedEdits, closestWord, correctionsOf } from '../src/search/typos.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';
import { graphql } from './graphql.js';

describe('correctionsOf', () => {
  const vocabulary = [
    { lexeme: 'reason', share: 0.5 },
    { lexeme: 'season', share: 0.01 },
    { lexeme: 'kimi', share: 0.01 },
    { lexeme: 'gpt-4o', share: 0.01 },
    { lexeme: 'represent', share: 0.1 },
    { lexeme: 'fair', share: 0.2 },
    { lexeme: 'model', share: 1 },
  ];
  it('takes the fewest edits (a swap of neighbours is one), then the commonest', () => {
    expect(correctionsOf('resaon', vocabulary)[0]?.lexeme).toBe('reason'); // swapped
    expect(correctionsOf('kmii', vocabulary)[0]?.lexeme).toBe('kimi'); // swapped, short word
    expect(correctionsOf('modl', vocabulary)[0]?.lexeme).toBe('model'); // dropped
    expect(correctionsOf('gpt4o', vocabulary)[0]?.lexeme).toBe('gpt-4o'); // the compound's hyphen dropped
    expect(correctionsOf('rerpesent', vocabulary)[0]?.lexeme).toBe('represent');
    // one edit from both 'reason' and 'season': the commoner first
    expect(correctionsOf('leason', vocabulary).map((c) => c.lexeme)).toEqual(['reason', 'season']);
  });
  it('also compares the word as typed with a lexeme and a stemmer ending (a typo that kept the word from stemming)', () => {
    const endings = [
      { lexeme: 'annot', share: 0.1 },
      { lexeme: 'regular', share: 0.1 },
      { lexeme: 'compress', share: 0.1 },
      { lexeme: 'interpret', share: 0.1 },
      ...vocabulary,
    ];
    // each stem is 3+ edits from the lexeme, the word 1 from the lexeme with its ending
    expect(correctionsOf('annotatt', endings, 3, 'annotattion')[0]?.lexeme).toBe('annot');
    expect(correctionsOf('regulariztaion', endings, 3, 'regulariztaion')[0]?.lexeme).toBe('regular');
    expect(correctionsOf('compresison', endings, 3, 'Compresison')[0]?.lexeme).toBe('compress');
    expect(correctionsOf('interpretabi', endings, 3, 'interpretabiility')[0]?.lexeme).toBe('interpret');
    expect(correctionsOf('annotatt', endings)).toEqual([]); // without the word: the stems alone
    // the word's own allowance: 'faithfulness' is far from 'fair' + 'ness'; a short word gets none
    expect(correctionsOf('faith', endings, 3, 'faithfulness')).toEqual([]);
    expect(correctionsOf('ai', endings, 3, 'ai')).toEqual([]);
    // a word under 9 letters one edit from a lexeme with an ending is mostly a word of its own ("drafted")
    expect(correctionsOf('drafter', [{ lexeme: 'draft', share: 0.1 }], 3, 'drafter')).toEqual([]);
    // letters only: a name with digits or hyphens has no stemmer ending to restore
    expect(correctionsOf('annotat1on', endings, 3, 'annotat1on')).toEqual([]);
  });

  it('shows, of the words the results write, the closest to the typed one', () => {
    expect(closestWord('resaoning', ['Reason', 'reasoning', 'Reasons'])).toBe('reasoning');
    expect(closestWord('GPT4o', ['gpt', 'GPT-4o'])).toBe('GPT-4o');
    expect(closestWord('x', [])).toBeNull();
  });

  it('allows 1 edit up to 7 letters, 2 from 8, none below 3; gives null beyond', () => {
    expect([2, 3, 7, 8].map(allowedEdits)).toEqual([0, 1, 1, 2]);
    expect(correctionsOf('faith', vocabulary)).toEqual([]); // 2 edits from 'fair': a word that may be meant
    expect(correctionsOf('rprsent', vocabulary)).toEqual([]); // 2 edits, 7 letters
    expect(correctionsOf('reprsnt', vocabulary)).toEqual([]);
    expect(correctionsOf('md', vocabulary)).toEqual([]);
    expect(correctionsOf('reason', vocabulary)).toEqual([]); // in the vocabulary: not a typo ('season' is 1 edit away)
  });
});

let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: 40, papersPerIssue: 12, categories: 6, seed: 5 });
  await analyzeArchive(tdb);
  app = createApp({ db: tdb.db });
}, 120_000);

afterAll(async () => {
  await tdb?.destroy();
});

const PAGE = graphql(`query TypoPage($q: String!, $after: String, $order: SearchOrder) {
  searchPapers(query: $q, first: 6, after: $after, orderBy: $order) {
    relaxed exhaustive totalCount facets { count }
    pageInfo { hasNextPage endCursor }
    edges { score node { id } matches { field fragment highlights { start end } } }
  }
}`);

async function page(q: string, after: string | null = null, order: 'RELEVANCE' | 'NEWEST' = 'RELEVANCE') {
  const res = await gql(app, PAGE, { q, after, order });
  expect(res.body.errors, q).toBeUndefined();
  return res.body.data!.searchPapers;
}

async function pages(q: string, order: 'RELEVANCE' | 'NEWEST', n: number) {
  const out: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < n; i++) {
    const p = await page(q, after, order);
    out.push(...p.edges.map((e) => e.node.id));
    if (!p.pageInfo.hasNextPage) break;
    after = p.pageInfo.endCursor;
  }
  return out;
}

describe('a word that matches nothing, corrected against the archive', () => {
  it('has the vocabulary of the archive: every lexeme of a small one, the statistics’ common ones of a large one', async () => {
    const every = await commonLexemes(tdb.db);
    const common = await commonLexemes(tdb.db, 0);
    for (const lexemes of [every, common]) {
      expect(lexemes.map((l) => l.lexeme)).toEqual(expect.arrayContaining(['reason', 'reward']));
      for (const l of lexemes) expect(l.share).toBeGreaterThan(0);
    }
    // ts_stat's shares are exact: 'reason' is in as many papers as the search for it counts
    const reason = every.find((l) => l.lexeme === 'reason')!;
    const total = (await page('reasoning')).totalCount;
    expect(Math.round(reason.share * 480)).toBe(total);
    expect(every.length).toBeGreaterThanOrEqual(common.length);
    // A word the search turns into each, also when the stem is not its own stem; none for a lexeme no word gives.
    expect(await searchableWords(tdb.db, ['reason', 'supervis', 'represent', 'zzqx-'])).toEqual([
      'reason',
      'supervise',
      'represente', // (not English, but stemmed to `represent` as the search needs)
      null,
    ]);
  });

  it('gives the corrected query’s results, counts and highlights, marked relaxed', async () => {
    for (const [typo, meant] of [
      ['resaoning', 'reasoning'],
      ['rewrad', 'reward'],
      ['rewrad resaoning', 'reward reasoning'],
      ['supervsied', 'supervised'], // corrected to `supervis`, which is not its own stem: searched as "supervise"
    ]) {
      const fixed = await page(typo!);
      const exact = await page(meant!);
      expect(exact.relaxed, meant).toBe(false);
      expect(fixed.relaxed, typo).toBe(true);
      expect(exact.edges.length, meant).toBeGreaterThan(0);
      expect(
        fixed.edges.map((e) => [e.node.id, e.score]),
        typo,
      ).toEqual(exact.edges.map((e) => [e.node.id, e.score]));
      expect(fixed.totalCount, typo).toBe(exact.totalCount);
      expect(fixed.facets, typo).toEqual(exact.facets);
      expect(fixed.exhaustive, typo).toBe(exact.exhaustive);
      // highlights are those of the corrected words
      expect(
        fixed.edges.map((e) => e.matches),
        typo,
      ).toEqual(exact.edges.map((e) => e.matches));
      expect(fixed.edges.some((e) => e.matches.some((m) => m.highlights.length > 0))).toBe(true);
    }
  });

  it('says what it searched for (correctedQuery), as the results write it, and null when nothing was corrected', async () => {
    const CORRECTED = graphql(`query Corrected($q: String!) {
      searchPapers(query: $q, first: 3) { relaxed correctedQuery edges { node { id } } }
    }`);
    const ask = async (q: string) => {
      const res = await gql(app, CORRECTED, { q });
      expect(res.body.errors, q).toBeUndefined();
      return res.body.data!.searchPapers;
    };
    expect((await ask('resaoning')).correctedQuery).toBe('reasoning');
    // the other words, spaces and the excluded word as written; the corrected words as the archive writes them
    expect((await ask('rewrad  resaoning -kernel')).correctedQuery).toBe('reward  reasoning -kernel');
    expect((await ask('supervsied')).correctedQuery).toBe('supervised');
    // of the words the results write for the correction ("modeling", "models", "model"), the closest to the typed one
    expect((await ask('rewrad modle')).correctedQuery).toBe('reward model');
    // corrected, still nothing: the partial matches of the corrected words, and it says so
    expect((await ask('rewrad qxzvwk')).correctedQuery).toBe('reward qxzvwk');
    for (const q of ['reasoning', 'qxzvwk', '"resaoning"']) expect((await ask(q)).correctedQuery, q).toBeNull();
  });

  it('pages on through the corrected ranking, in either order', async () => {
    for (const order of ['RELEVANCE', 'NEWEST'] as const) {
      const fixed = await pages('resaoning', order, 4);
      expect(fixed.length, order).toBeGreaterThan(12);
      expect(fixed, order).toEqual(await pages('reasoning', order, 4));
    }
  });

  it('is not tried for a quoted phrase, a word too far from any lexeme, or when every word matches', async () => {
    // A quoted phrase asks for exactly its words: nothing corrected (the relaxation finds no title like it).
    const quoted = await page('"resaoning"');
    expect(quoted.edges.map((e) => e.node.id)).not.toEqual((await page('reasoning')).edges.map((e) => e.node.id));
    // Too far from every lexeme: the other relaxations (here none find anything).
    expect((await page('qxzvwk')).edges).toHaveLength(0);
    // Every word matches: the exact results, not relaxed.
    expect((await page('reasoning')).relaxed).toBe(false);
    // Corrected, the query still finds nothing (`qxzvwk` has no correction): the partial matches instead.
    const partial = await page('rewrad qxzvwk');
    expect(partial.relaxed).toBe(true);
    expect(partial.edges.length).toBeGreaterThan(0);
    // ... of the corrected words: the best of them hold `reward`, highlighted
    const rewarded = new Set((await page('reward')).edges.map((e) => e.node.id));
    expect(partial.edges.filter((e) => rewarded.has(e.node.id)).length).toBeGreaterThan(0);
    expect(partial.edges[0]!.matches.some((m) => m.highlights.length > 0)).toBe(true);
  });

  it('looks for titles similar to the words that match nothing only (the others find their papers as they are)', async () => {
    // The trigram index hands back every title sharing a few letters with any word of the text it is given:
    // with `reasoning` in it, most of the archive (at a million papers, 0.6 s before a row is read).
    const similarTo = async (q: string) => {
      tdb.resetStatements();
      const r = await page(q);
      const texts = tdb.statements.flatMap((statement, i) =>
        /<% p\.title/.test(statement) ? [tdb.statementParams[i]!.find((v) => typeof v === 'string')] : [],
      );
      return { r, texts: [...new Set(texts)] };
    };
    const mixed = await similarTo('reasoning qxzvwk');
    expect(mixed.r.relaxed).toBe(true);
    expect(mixed.r.edges.length).toBeGreaterThan(0); // the papers of `reasoning`
    expect(mixed.texts).toEqual(['qxzvwk']);
    // Every word found nowhere: the whole text (a title may hold them misspelled together).
    expect((await similarTo('qxzvwk zzqvbn')).texts).toEqual(['qxzvwk zzqvbn']);
    // Every word matches some paper, never together: partial matches only, no similar titles to look for. (Two of
    // the archive's rarest words, which no paper holds both of.)
    const rare = (await commonLexemes(tdb.db)).sort((a, b) => a.share - b.share).slice(0, 200);
    const words = (
      await searchableWords(
        tdb.db,
        rare.map((l) => l.lexeme),
      )
    ).filter((w): w is string => w !== null && /^[a-z]{4,}$/.test(w));
    const apart = await similarTo(`${words[0]} ${words[1]}`);
    expect(apart.r.relaxed).toBe(true);
    expect(apart.r.edges.length).toBeGreaterThan(0);
    expect(apart.texts).toEqual([]);
  });
});
