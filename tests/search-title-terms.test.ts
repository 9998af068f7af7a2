/**
 * paper_title_terms (migrations 0010–0011) and the one-word page read from it
 * (titleTermsPageSql): the table mirrors the title words of every paper
 * through every kind of write, and a page it gives as exact is the page a
 * ranking of every match gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/db/orm.js';
import {
  type SearchArgs,
  analyzeQuery,
  scopeMaxScoreOutside,
  searchPage,
  titlePairPage,
  titlePhrasePage,
  titleTermsPage,
} from '../src/db/queries/search.js';
import { selectRows } from '../src/db/queries/util.js';
import { analyzeArchive } from '../src/db/seed.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { parseSearchQuery } from '../src/search/query.js';
import { type TestDb, createTestDb } from './helpers/db.js';

let tdb: TestDb;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: 60, papersPerIssue: 12, categories: 6, seed: 11 });
  await analyzeArchive(tdb);
}, 120_000);

afterAll(async () => {
  await tdb?.destroy();
});

/** The rows paper_title_terms should hold, computed from the papers themselves. */
const EXPECTED = sql`SELECT u.lexeme, p.id AS paper_id, p.week_start,
    (SELECT count(*) FROM unnest(u.weights) w WHERE w = 'B')::int AS summary_count
  FROM papers p, unnest(p.search_vector) u WHERE 'A' = ANY (u.weights)`;
const HELD = sql`SELECT lexeme, paper_id, week_start, summary_count::int FROM paper_title_terms`;

/** Rows missing from the table plus rows it holds that it should not. */
async function drift(): Promise<number> {
  const [row] = await selectRows<{ n: number }>(
    tdb.db,
    sql`SELECT count(*)::int AS n FROM ((${EXPECTED} EXCEPT ${HELD}) UNION ALL (${HELD} EXCEPT ${EXPECTED})) d`,
  );
  return Number(row?.n);
}

const firstIds = async (k: number): Promise<number[]> =>
  (await selectRows<{ id: number }>(tdb.db, sql`SELECT id FROM papers ORDER BY id LIMIT ${k}::int`)).map((r) =>
    Number(r.id),
  );

const args = (terms: SearchArgs['terms'], limit: number): SearchArgs => ({
  terms,
  order: 'RELEVANCE',
  mode: 'text',
  cursor: null,
  limit,
  headlines: false,
});

type FastPage = { rows: Array<{ id: number; score: number }>; exact: boolean };

/**
 * For both visibilities and each page size, the page `read` gives: when it says it is exact, full and above
 * every paper without the query in its title, it must be the ranking of every match. Counts both outcomes.
 */
async function againstRanking(
  terms: SearchArgs['terms'],
  label: string,
  limits: readonly number[],
  read: (args: SearchArgs, vis: { drafts: boolean }) => Promise<FastPage>,
): Promise<{ served: number; declined: number }> {
  const out = { served: 0, declined: 0 };
  for (const vis of [{ drafts: false }, { drafts: true }]) {
    for (const limit of limits) {
      const fast = await read(args(terms, limit), vis);
      const last = fast.rows[limit - 1];
      if (!fast.exact || last === undefined || last.score <= scopeMaxScoreOutside(terms, 'title')) {
        out.declined++;
        continue;
      }
      const all = await searchPage(tdb.db, { ...args(terms, limit), scope: 'all' }, vis);
      expect(
        fast.rows.map((r) => [r.id, r.score]),
        `${label}, ${limit}, drafts ${vis.drafts}`,
      ).toEqual(all.map((r) => [r.id, r.score]));
      out.served++;
    }
  }
  return out;
}

describe('paper_title_terms', () => {
  it('holds the title words of every paper and follows every write to a title, a summary, a week or a paper', async () => {
    const [{ n } = { n: 0 }] = await selectRows<{ n: number }>(
      tdb.db,
      sql`SELECT count(*)::int AS n FROM paper_title_terms`,
    );
    expect(Number(n)).toBeGreaterThan(720);
    expect(await drift()).toBe(0);

    const [a, b, c, d, e] = await firstIds(5);
    await tdb.db.execute(sql`UPDATE papers SET title = 'Kernels of a kernel: quantum rewards' WHERE id = ${a}::int`);
    await tdb.db.execute(sql`UPDATE papers SET summary = summary || ' kernel kernels kernel.' WHERE id = ${b}::int`);
    await tdb.db.execute(sql`UPDATE papers SET week_start = week_start - 7 WHERE id = ${c}::int`);
    await tdb.db.execute(sql`DELETE FROM papers WHERE id = ${d}::int`);
    // A column the table does not follow: the trigger does not fire, nothing drifts.
    await tdb.db.execute(sql`UPDATE papers SET url = 'https://example.org/e' WHERE id = ${e}::int`);
    expect(await drift()).toBe(0);
    const kernel = await selectRows<{ summary_count: number }>(
      tdb.db,
      sql`SELECT summary_count FROM paper_title_terms WHERE paper_id = ${a}::int AND lexeme = 'kernel'`,
    );
    expect(kernel).toHaveLength(1);
    const gone = await selectRows(tdb.db, sql`SELECT 1 FROM paper_title_terms WHERE paper_id = ${d}::int`);
    expect(gone).toHaveLength(0);
  });
});

describe('a one-word page from the title words', () => {
  it('is, whenever it says it is exact and full, the ranking of every match (both visibilities, two page sizes)', async () => {
    const words = await selectRows<{ lexeme: string }>(
      tdb.db,
      sql`SELECT lexeme FROM paper_title_terms GROUP BY lexeme HAVING count(*) >= 8 ORDER BY count(*) DESC, lexeme LIMIT 40`,
    );
    expect(words.length).toBeGreaterThan(20);
    let served = 0;
    for (const { lexeme: word } of words) {
      const terms = parseSearchQuery(word);
      const { lexeme } = await analyzeQuery(tdb.db, terms);
      if (lexeme === null) continue; // a word the vocabulary widens (synonyms), or one that stems again
      const read = (a: SearchArgs, vis: { drafts: boolean }) => titleTermsPage(tdb.db, a, vis, lexeme);
      served += (await againstRanking(terms, word, [8, 21], read)).served;
    }
    // Most of these words have enough title matches to fill a page from them alone.
    expect(served).toBeGreaterThan(40);
  });

  it('serves hyphenated words (a phrase of the compound and its parts) from the compound, the same page as the ranking', async () => {
    // Hyphenated words in titles, each repeated in some of the summaries (0–3 times, so that counts differ):
    // one plain, one with stop words between its parts (a cover worth less), one with digits.
    const add = [
      [7, 'Long-Context', 'A long-context note.', 4],
      [11, 'State-of-the-Art', 'Beyond the state-of-the-art.', 3],
      [13, 'GPT-4o', 'As GPT-4o does.', 4],
    ] as const;
    for (const [every, title, sentence, counts] of add) {
      await tdb.db.execute(
        sql`UPDATE papers SET title = ${title}::text || ' ' || title,
              summary = summary || repeat(' ' || ${sentence}::text, id % ${counts}::int)
            WHERE id % ${every}::int = 0`,
      );
    }
    await analyzeArchive(tdb);
    const words = await selectRows<{ lexeme: string }>(
      tdb.db,
      sql`SELECT lexeme FROM paper_title_terms WHERE lexeme LIKE '%_-_%' GROUP BY lexeme HAVING count(*) >= 3
          ORDER BY count(*) DESC, lexeme LIMIT 30`,
    );
    expect(words.map((w) => w.lexeme)).toEqual(expect.arrayContaining(['long-context', 'state-of-the-art', 'gpt-4o']));
    let served = 0;
    for (const { lexeme: word } of words) {
      const terms = parseSearchQuery(word);
      const { lexeme, nodes } = await analyzeQuery(tdb.db, terms);
      if (lexeme === null) continue; // (a vocabulary term, or a compound whose parts are numbers: `llama-3`)
      expect(lexeme, word).toContain('-');
      expect(nodes, word).toBeGreaterThan(1);
      const read = (a: SearchArgs, vis: { drafts: boolean }) => titleTermsPage(tdb.db, a, vis, lexeme);
      served += (await againstRanking(terms, word, [3, 8], read)).served;
    }
    expect(served).toBeGreaterThan(10);
  }, 60_000);

  it('serves a quoted phrase from its rarest word’s title terms, the same page as the ranking (also when the walk per count is cut short)', async () => {
    // Titles holding a phrase, others holding its words in another order; summaries holding it 0–3 times
    // and its words alone too (so that a word's count overstates the phrase's).
    const edits = [
      [5, 'Speculative Decoding', ' With speculative decoding.', 4, ' Decoding alone.'],
      [6, 'Decoding, Speculative', ' Decoding, speculative.', 2, ' Speculative alone.'],
      [9, 'Tree of Thoughts', ' A tree of thoughts.', 3, ' One tree.'],
      // a word no summary holds: each page is the most recent titles (a count of 0, whose bound is exact)
      [4, 'Sparse Routing', '', 1, ''],
      // one word the parser reads as a phrase ('llama' <-> '-3')
      [8, 'Llama-3 Adapters', ' Llama-3 again.', 3, ' Llama alone.'],
    ] as const;
    for (const [every, title, phrase, counts, alone] of edits) {
      await tdb.db.execute(
        sql`UPDATE papers SET title = ${title}::text || ' ' || title,
              summary = summary || repeat(${phrase}::text, id % ${counts}::int) || repeat(${alone}::text, id % 3)
            WHERE id % ${every}::int = 0`,
      );
    }
    await analyzeArchive(tdb);
    let served = 0;
    let declined = 0;
    let rewalked = 0;
    for (const text of [
      '"speculative decoding"',
      '"tree of thoughts"',
      '"decoding speculative"',
      '"reasoning model"',
      '"sparse routing"',
      'Llama-3',
    ]) {
      const terms = parseSearchQuery(text);
      const { phraseLexemes } = await analyzeQuery(tdb.db, terms);
      expect(phraseLexemes, text).not.toBeNull();
      // a page per count, or every paper examined (a count read to its end needs no bound)
      for (const walk of [
        { examinedPerCount: 4 },
        {},
        { examinedPerCount: 4, wholeCounts: [0, 1, 2, 3, 4, 5] },
        { wholeCounts: [0, 1, 2, 3, 4, 5] },
        { examinedPerCount: 4, wholeCounts: [1] },
        { wholeCounts: [0, 2] },
      ]) {
        const read = (a: SearchArgs, vis: { drafts: boolean }) => titlePhrasePage(tdb.db, a, vis, phraseLexemes!, walk);
        const counted = await againstRanking(terms, `${text}, ${JSON.stringify(walk)}`, [3, 8, 21], read);
        served += counted.served;
        declined += counted.declined;
      }
      // A page declined for its bounds names the counts whose bounds reach it; read again whole, those serve.
      for (const limit of [3, 8]) {
        const first = await titlePhrasePage(tdb.db, args(terms, limit), { drafts: true }, phraseLexemes!, {
          examinedPerCount: 4,
        });
        expect(first.exact || first.reaching.length > 0 || first.rows.length < limit, text).toBe(true);
        if (first.exact || first.reaching.length === 0) continue;
        const read = (a: SearchArgs, vis: { drafts: boolean }) =>
          titlePhrasePage(tdb.db, a, vis, phraseLexemes!, { examinedPerCount: 64, wholeCounts: first.reaching });
        rewalked += (await againstRanking(terms, `${text}, again ${first.reaching}`, [limit], read)).served;
      }
    }
    expect(served).toBeGreaterThan(10);
    expect(declined).toBeGreaterThan(0);
    expect(rewalked).toBeGreaterThan(0);
    // Not a phrase alone: with another word or an excluded word; one word of one lexeme, or a hyphenated
    // compound (the one-word page's).
    for (const text of [
      '"speculative decoding" kernel',
      '"speculative decoding" -kernel',
      'reasoning',
      'long-context',
    ]) {
      expect((await analyzeQuery(tdb.db, parseSearchQuery(text))).phraseLexemes, text).toBeNull();
    }
  }, 60_000);

  it('serves a phrase with synonyms (every paper matching one scored too), the same page as the ranking, and declines when they are too many', async () => {
    // "Mixture of experts" in titles, 0–2 times in their summaries, its words alone there too; MoE in other titles;
    // and MoE 6–9 times in summaries of titles holding the phrase whose summaries do not (what the walk's
    // bound for their count does not cover: older ones outrank the most recent titles it takes there).
    await tdb.db.execute(
      sql`UPDATE papers SET title = 'Mixture of Experts ' || title,
            summary = summary || repeat(' A mixture of experts.', id % 3) || repeat(' Experts alone.', id % 2)
          WHERE id % 5 = 0`,
    );
    await tdb.db.execute(
      sql`UPDATE papers SET title = 'MoE Routing ' || title, summary = summary || ' MoE.' WHERE id % 13 = 0`,
    );
    await tdb.db.execute(
      sql`UPDATE papers SET summary = summary || repeat(' MoE.', 6 + (id / 15) % 4) WHERE id % 15 = 0`,
    );
    await analyzeArchive(tdb);
    const terms = parseSearchQuery('"mixture of experts"');
    expect(terms.groups[0]!.length).toBeGreaterThan(1);
    const { phraseLexemes } = await analyzeQuery(tdb.db, terms);
    expect(phraseLexemes).not.toBeNull();
    let served = 0;
    for (const walk of [{}, { wholeCounts: [0, 1, 2, 3, 4, 5] }, { examinedPerCount: 4 }]) {
      const read = (a: SearchArgs, vis: { drafts: boolean }) => titlePhrasePage(tdb.db, a, vis, phraseLexemes!, walk);
      served += (await againstRanking(terms, `synonyms, ${JSON.stringify(walk)}`, [3, 8, 21], read)).served;
    }
    expect(served).toBeGreaterThan(4);
    // Some MoE-only papers on the ranking's pages (what the synonyms' set is for).
    const all = await searchPage(tdb.db, { ...args(terms, 21), scope: 'all' }, { drafts: false });
    const titles = await selectRows<{ title: string }>(
      tdb.db,
      sql`SELECT title FROM papers WHERE id IN (${sql.join(
        all.map((r) => sql`${r.id}::int`),
        sql`, `,
      )})`,
    );
    expect(titles.length).toBe(21);
    // More papers match a synonym than it scores: never exact.
    const few = await titlePhrasePage(tdb.db, args(terms, 3), { drafts: true }, phraseLexemes!, { othersMax: 2 });
    expect(few.exact).toBe(false);
  }, 60_000);

  it('serves two words from their title terms, the same page as the ranking (both in titles, then each alone)', async () => {
    // Two words each in the titles of its own papers (never together), each title's word beside the
    // other in the summary 0–4 times: pages where papers with one word in the title decide, at several counts.
    // (half of them far apart: at one count, an older paper may outrank newer ones, as only a bound can tell)
    await tdb.db.execute(sql`UPDATE papers SET title = 'Zeta ' || title, summary = summary || repeat(
        CASE WHEN id % 2 = 0 THEN ' Zeta is one thing, and much later in the text comes omega.' ELSE ' Zeta omega.' END,
        id % 5)
      WHERE id % 7 = 0`);
    await tdb.db.execute(sql`UPDATE papers SET title = title || ' Omega', summary = summary || repeat(' Omega zeta.', id % 4)
      WHERE id % 11 = 0 AND id % 7 <> 0`);
    await analyzeArchive(tdb);
    let served = 0;
    let declined = 0;
    const pairs = [
      'zeta omega',
      'omega zeta',
      'reward model',
      'reasoning models',
      'policy agent',
      'memory cache',
      'vision audio',
      'training data',
      'latency throughput',
      'kernel gpu',
      'language large',
      'tokens attention',
      'safety alignment',
      'speculative decoding',
    ];
    for (const text of pairs) {
      const terms = parseSearchQuery(text);
      const { pairLexemes } = await analyzeQuery(tdb.db, terms);
      expect(pairLexemes, text).not.toBeNull();
      const read = (a: SearchArgs, vis: { drafts: boolean }) => titlePairPage(tdb.db, a, vis, pairLexemes!);
      const counted = await againstRanking(terms, text, [3, 8, 21], read);
      served += counted.served;
      declined += counted.declined;
      // With more papers holding both words in their titles than it scores, it declines.
      const capped = await titlePairPage(tdb.db, args(terms, 8), { drafts: true }, pairLexemes!, 0);
      const both = await selectRows(
        tdb.db,
        sql`SELECT 1 FROM paper_title_terms a JOIN paper_title_terms b ON b.paper_id = a.paper_id
            WHERE a.lexeme = ${pairLexemes![0]}::text AND b.lexeme = ${pairLexemes![1]}::text LIMIT 1`,
      );
      if (both.length > 0) expect(capped.exact, text).toBe(false);
    }
    expect(served).toBeGreaterThan(15);
    // (`zeta omega`'s pages among them: an older paper of a count may outrank the newer ones taken)
    expect(declined).toBeGreaterThan(0);
    // Not two plain words: a synonym, a phrase, an excluded word, three words, a hyphenated word, one word twice.
    for (const text of [
      'rl model',
      '"reward model"',
      'reward -model',
      'reward model policy',
      'long-context model',
      'model models',
    ]) {
      expect((await analyzeQuery(tdb.db, parseSearchQuery(text))).pairLexemes, text).toBeNull();
    }
  }, 60_000);

  it('orders drafts after the newest edition by week as the ranking does, and declines a page a reader sees emptied by drafts', async () => {
    // The two newest editions become drafts whose papers all hold "zebrafish" in their titles and not in
    // their summaries: their freshness is at its ceiling, and only the week (RECENCY's tie-breaker) and
    // the id order them.
    const drafts = await selectRows<{ id: number }>(
      tdb.db,
      sql`SELECT id FROM issues ORDER BY week_start DESC LIMIT 2`,
    );
    const ids = drafts.map((r) => Number(r.id));
    await tdb.db.execute(sql`UPDATE issues SET status = 'draft' WHERE id IN (${ids[0]!}::int, ${ids[1]!}::int)`);
    await tdb.db.execute(
      sql`UPDATE papers SET title = 'Zebrafish ' || title, summary = 'Nothing.' WHERE issue_id IN (${ids[0]!}::int, ${ids[1]!}::int)`,
    );
    // The older of the two (lower ids) moves after the newer: ids and weeks now disagree, as the index's
    // order (week) and the ranking's tie order (id) would if freshness alone could not tell the weeks apart.
    await tdb.db.execute(
      sql`UPDATE issues SET week_start = week_start + 14, week_end = week_end + 14 WHERE id = ${ids[1]!}::int`,
    );
    await tdb.db.execute(sql`UPDATE papers SET week_start = week_start + 14 WHERE issue_id = ${ids[1]!}::int`);
    const terms = parseSearchQuery('zebrafish');
    const { lexeme } = await analyzeQuery(tdb.db, terms);
    expect(lexeme).toBe('zebrafish');
    for (const limit of [5, 13, 21]) {
      const fast = await titleTermsPage(tdb.db, args(terms, limit), { drafts: true }, lexeme!);
      expect(fast.exact, String(limit)).toBe(true);
      const all = await searchPage(tdb.db, { ...args(terms, limit), scope: 'all' }, { drafts: true });
      expect(fast.rows.map((r) => [r.id, r.score])).toEqual(all.map((r) => [r.id, r.score]));
    }
    // A reader sees none of them: every paper taken at that count is a draft, so the page cannot tell
    // whether older published ones would fill it.
    const published = await titleTermsPage(tdb.db, args(terms, 8), { drafts: false }, lexeme!);
    expect(published.rows).toHaveLength(0);
    expect(published.exact).toBe(false);
  });

  it('is not used for one word written with another that is a stop word ("the" counts in the title as written)', async () => {
    expect((await analyzeQuery(tdb.db, parseSearchQuery('the kernel'))).lexeme).toBeNull();
    expect((await analyzeQuery(tdb.db, parseSearchQuery('kernels'))).lexeme).toBe('kernel');
    expect((await analyzeQuery(tdb.db, parseSearchQuery('long-contexts'))).lexeme).toBe('long-context');
    // Not one compound: a number after the hyphen ('llama' <-> '-3'), two words, punctuation between words.
    for (const text of ['Llama-3', 'long-context window', 'long-context/scaling', 'long--context']) {
      expect((await analyzeQuery(tdb.db, parseSearchQuery(text))).lexeme, text).toBeNull();
    }
  });
});
