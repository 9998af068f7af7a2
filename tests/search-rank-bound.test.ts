/**
 * The rank bound of an exact scope's first page (issue 18): a two-group query's rank in a summary is at most that of
 * twice as many covers as the summary holds its rarest group's lexeme (rankBoundLexemes), so the matches whose
 * score without the rank plus that bound cannot reach the page are never ranked. Checked here: which queries take
 * it; the bound against ts_rank_cd itself on every match, summaries made to hold many covers included; the pages
 * with it against the pages without; and that it leaves matches unranked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/db/orm.js';
import {
  type SearchArgs,
  analyzeQuery,
  estimateRanking,
  rankBoundLexemes,
  searchPage,
  searchPageSql,
} from '../src/db/queries/search.js';
import { analyzeArchive } from '../src/db/seed.js';
import { generateArchive, prng } from '../src/fixtures/generate.js';
import { selectRows } from '../src/db/queries/util.js';
import { parseSearchQuery } from '../src/search/query.js';
import { type TestDb, createTestDb } from './helpers/db.js';

let tdb: TestDb;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: 40, papersPerIssue: 12, categories: 6, seed: 5 });
  await analyzeArchive(tdb);
}, 120_000);

afterAll(async () => {
  await tdb?.destroy();
});

describe('rankBoundLexemes', () => {
  it('takes two groups of words and phrases that share no lexeme, counting the groups of one alternative', () => {
    expect(rankBoundLexemes([["'reward'"], ["'model'"]])).toEqual(["'reward'", "'model'"]);
    expect(rankBoundLexemes([["'vision' <-> 'languag' <-> 'model'", "'vlm'"], ["'workflow'"]])).toEqual(["'workflow'"]);
    expect(rankBoundLexemes([["'tree' <2> 'thought'"], ["'it''s'"]])).toEqual(["'tree'", "'thought'", "'it''s'"]);
  });

  it('declines one group, three, a group sharing a lexeme with the other, words joined by & | ! inside a group', () => {
    expect(rankBoundLexemes([["'reward'"]])).toBeNull();
    expect(rankBoundLexemes([["'a'"], ["'b'"], ["'c'"]])).toBeNull();
    expect(rankBoundLexemes([["'reward' <-> 'model'"], ["'model'"]])).toBeNull();
    expect(rankBoundLexemes([["'reward' & 'model'"], ["'cach'"]])).toBeNull();
    expect(rankBoundLexemes([["'reward' | 'model'"], ["'cach'"]])).toBeNull();
    expect(rankBoundLexemes([["!'reward'"], ["'cach'"]])).toBeNull();
    expect(rankBoundLexemes([["'reward':*"], ["'cach'"]])).toBeNull();
    expect(rankBoundLexemes([[''], ["'cach'"]])).toBeNull();
    // every group has alternatives: no group bounds the matches by one lexeme
    expect(
      rankBoundLexemes([
        ["'rl'", "'reinforc' <-> 'learn'"],
        ["'cot'", "'chain' <2> 'thought'"],
      ]),
    ).toBeNull();
  });

  it('is what analyzeQuery finds for two-group queries, one lexeme (the rarest), and nothing for others', async () => {
    for (const q of ['reward model', '"speculative decoding" drafter', 'GLM-4 model', 'vlm workflows']) {
      const bound = (await analyzeQuery(tdb.db, parseSearchQuery(q))).rankBound;
      expect(bound, q).toHaveLength(1);
    }
    for (const q of ['reward', 'reward model cache', 'reward -model', 'vlm rl']) {
      expect((await analyzeQuery(tdb.db, parseSearchQuery(q))).rankBound, q).toBeNull();
    }
  });
});

// Two-group queries of each shape the bound takes: two words, a phrase and a word, a hyphenated word (a phrase of
// its parts) and a word, a group with a synonym and a word, a phrase with a stop word inside.
const QUERIES = [
  'reward model',
  '"speculative decoding" drafter',
  'GLM-4 model',
  'vlm workflows',
  '"chain of thought" faithfulness',
];

/** Summaries made of the query's words and phrases in random order and number, with fillers between some. */
function adversarialSummary(rand: () => number, pieces: string[]): string {
  const words: string[] = [];
  const n = 1 + Math.floor(rand() * 24);
  for (let i = 0; i < n; i++) {
    words.push(pieces[Math.floor(rand() * pieces.length)]!);
    if (rand() < 0.3) words.push(rand() < 0.5 ? 'the' : 'benchmark');
  }
  return `${words.join(' ')}.`;
}

const PIECES: Record<string, string[]> = {
  'reward model': ['reward', 'model', 'reward model', 'model reward'],
  '"speculative decoding" drafter': ['speculative decoding', 'drafter', 'speculative', 'decoding', 'drafter drafter'],
  'GLM-4 model': ['GLM-4', 'model', 'GLM-4 model', 'GLM', '4'],
  'vlm workflows': ['VLM', 'workflows', 'vision language model', 'vision', 'language model'],
  '"chain of thought" faithfulness': ['chain of thought', 'faithfulness', 'chain', 'thought', 'of'],
};

/** Rewrites the summaries of the newest `n` papers with adversarial ones for `q` (titles kept). */
async function rewrite(q: string, n: number, seed: number): Promise<void> {
  const rand = prng(seed);
  const ids = (
    await selectRows<{ id: number }>(tdb.db, sql`SELECT id FROM papers ORDER BY id DESC LIMIT ${n}::int`)
  ).map((r) => Number(r.id));
  for (const id of ids) {
    await tdb.db.execute(
      sql`UPDATE papers SET summary = ${adversarialSummary(rand, PIECES[q]!)} WHERE id = ${id}::int`,
    );
  }
}

/** Each group of `q` as websearch_to_tsquery writes it (one tsquery of its alternatives). */
const groupQueries = (q: string) =>
  parseSearchQuery(q).groups.map(
    (g) =>
      sql`(${sql.join(
        g.map((a) => sql`websearch_to_tsquery('english', ${a}::text)`),
        sql` || `,
      )})`,
  );

/** rankBoundLexemes of `q`, every lexeme (analyzeQuery keeps the rarest). */
async function boundLexemes(q: string): Promise<string[] | null> {
  const parsed = parseSearchQuery(q);
  const trees: string[][] = [];
  for (const g of parsed.groups) {
    const r = await selectRows<{ t: string[] }>(
      tdb.db,
      sql`SELECT ARRAY[${sql.join(
        g.map((a) => sql`websearch_to_tsquery('english', ${a}::text)::text`),
        sql`, `,
      )}] AS t`,
    );
    trees.push(r[0]!.t);
  }
  return rankBoundLexemes(trees);
}

/** The `all` scope's first page of 21 for `q`, with the rank bound analyzeQuery finds (no headlines). */
async function firstPage(q: string): Promise<SearchArgs> {
  const terms = parseSearchQuery(q);
  const { rankBound } = await analyzeQuery(tdb.db, terms);
  return {
    terms,
    order: 'RELEVANCE',
    mode: 'text',
    cursor: null,
    limit: 21,
    scope: 'all',
    headlines: false,
    rankBound,
  };
}

describe('the rank bound', () => {
  it('leaves unranked the matches that cannot reach the page', async () => {
    // (the generated summaries: the tests below rewrite some)
    const args = { ...(await firstPage('policy agent')), headlines: true };
    const plan = (
      await selectRows<{ 'QUERY PLAN': unknown }>(
        tdb.db,
        sql`EXPLAIN (ANALYZE, FORMAT JSON) ${searchPageSql(args, { drafts: false })}`,
      )
    )[0]!['QUERY PLAN'];
    const json = typeof plan === 'string' ? JSON.parse(plan) : plan;
    const rows = (name: string): number => {
      const find = (node: Record<string, unknown>): number | undefined => {
        if (node['Subplan Name'] === `CTE ${name}`) return Number(node['Actual Rows']);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) {
          const found = find(child);
          if (found !== undefined) return found;
        }
        return undefined;
      };
      return find((json as { Plan: Record<string, unknown> }[])[0]!.Plan) ?? -1;
    };
    expect(rows('matched')).toBeGreaterThan(50);
    expect(rows('scored')).toBeGreaterThanOrEqual(21);
    expect(rows('scored')).toBeLessThan(rows('matched') / 2);
  });
  it('is at least the rank ts_rank_cd gives every match, summaries full of covers included', async () => {
    let checked = 0;
    let tightest = 0;
    for (const [i, q] of QUERIES.entries()) {
      await rewrite(q, 150, 100 + i);
      const lexemes = await boundLexemes(q);
      expect(lexemes, q).not.toBeNull();
      for (const lexeme of lexemes!) {
        const count = sql`round(ts_rank_cd('{0, 0, 0.4, 0}', p.search_vector, ${lexeme}::tsquery, 0) / 0.4::float4::float8)`;
        const rows = await selectRows<{ rank: number; bound: number }>(
          tdb.db,
          sql`
            SELECT ts_rank_cd('{0, 0, 0.4, 0}', p.search_vector, q.q, 32)::float8 AS rank,
              ((2 * ${count} * 0.4) / (2 * ${count} * 0.4 + 1))::float8 AS bound
            FROM papers p, (SELECT (${sql.join(groupQueries(q), sql` && `)}) AS q) q
            WHERE p.search_vector @@ q.q`,
        );
        expect(rows.length, q).toBeGreaterThan(100);
        for (const r of rows) {
          expect(Number(r.rank), `${q} ${lexeme}`).toBeLessThanOrEqual(Number(r.bound) + 1e-6);
          if (Number(r.bound) > 0) tightest = Math.max(tightest, Number(r.rank) / Number(r.bound));
        }
        checked += rows.length;
      }
    }
    expect(checked).toBeGreaterThan(1000);
    // the summaries made here reach the bound: a looser one would pass unnoticed otherwise
    expect(tightest).toBeGreaterThan(0.99);
  });

  it('gives the page the ranking of every match gives, in every exact scope, two page sizes, both visibilities', async () => {
    let compared = 0;
    for (const [i, q] of QUERIES.entries()) {
      await rewrite(q, 150, 200 + i);
      await analyzeArchive(tdb);
      const terms = parseSearchQuery(q);
      const { rankBound } = await analyzeQuery(tdb.db, terms);
      expect(rankBound, q).toHaveLength(1);
      for (const scope of ['all', 'title', 'title-all'] as const) {
        for (const limit of [8, 21]) {
          for (const drafts of [false, true]) {
            const args: SearchArgs = {
              terms,
              order: 'RELEVANCE',
              mode: 'text',
              cursor: null,
              limit,
              scope,
              headlines: false,
            };
            const every = await searchPage(tdb.db, args, { drafts });
            const bounded = await searchPage(tdb.db, { ...args, rankBound }, { drafts });
            const key = `${q} ${scope} ${limit} ${drafts}`;
            expect(
              bounded.map((h) => [h.id, h.score]),
              key,
            ).toEqual(every.map((h) => [h.id, h.score]));
            compared += every.length;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('keeps a match whose summary alone lifts it onto a page of title matches (a bound half as high would not)', async () => {
    // 30 recent papers with `reward` in the title and `model` only in the summary (no cover: 2.75 + freshness), and
    // the newest with neither word in its title and `reward model` five times in its summary: 9 covers, rank
    // 0.783, above them all. Counting 5 covers, not 10 (2 × 5), would leave it unranked.
    const ids = (await selectRows<{ id: number }>(tdb.db, sql`SELECT id FROM papers ORDER BY id DESC LIMIT 31`)).map(
      (r) => Number(r.id),
    );
    for (const id of ids.slice(1)) {
      await tdb.db.execute(
        sql`UPDATE papers SET title = ${`Reward Signals Study ${id}`}, summary = 'A model of the data.' WHERE id = ${id}::int`,
      );
    }
    await tdb.db.execute(
      sql`UPDATE papers SET title = 'Unrelated Study', summary = repeat('reward model ', 5) WHERE id = ${ids[0]!}::int`,
    );
    // (the other matches out of the way: the tests above made summaries full of both words)
    await tdb.db.execute(
      sql`UPDATE papers SET title = 'Other Work ' || id, summary = 'Nothing of the kind.'
          WHERE search_vector @@ to_tsquery('english', 'reward & model') AND id < ${ids[30]!}::int`,
    );
    const { rankBound, ...args } = await firstPage('reward model');
    const every = await searchPage(tdb.db, args, { drafts: false });
    const bounded = await searchPage(tdb.db, { ...args, rankBound }, { drafts: false });
    expect(every[0]!.id).toBe(ids[0]);
    expect(every).toHaveLength(21);
    expect(every[20]!.title).toMatch(/^Reward Signals Study/);
    expect(bounded.map((h) => [h.id, h.score])).toEqual(every.map((h) => [h.id, h.score]));
  });
});

describe('the estimate that chooses an exact ranking', () => {
  it('estimates a phrase with a hyphenated word by its compound (`in-context`), not by its common parts', async () => {
    // 24 of the oldest papers hold the phrase; `context` and `learning` are in most generated summaries
    await tdb.db.execute(sql`UPDATE papers SET summary = summary || ' We study in-context learning for agents.'
        WHERE id IN (SELECT id FROM papers ORDER BY id LIMIT 24)`);
    await analyzeArchive(tdb);
    const q = '"in-context learning"';
    const terms = parseSearchQuery(q);
    const [row] = await selectRows<{ n: number; context: number }>(
      tdb.db,
      sql`SELECT count(*) FILTER (WHERE p.search_vector @@ (${sql.join(groupQueries(q), sql` && `)}))::int AS n,
            count(*) FILTER (WHERE p.search_vector @@ to_tsquery('english', 'context'))::int AS context
          FROM papers p`,
    );
    const n = Number(row!.n);
    expect(n).toBeGreaterThanOrEqual(24);
    expect(Number(row!.context)).toBeGreaterThan(n * 4); // the part alone would overestimate
    const { all } = await estimateRanking(tdb.db, { terms });
    // an upper bound by the rarest word or compound, the groups taken as independent: within a few times
    expect(all).toBeLessThan(n * 4);
    expect(all).toBeGreaterThan(n / 4);
  });

  it('estimates one hyphenated word by its compound too (the planner multiplies the compound and its parts)', async () => {
    await tdb.db.execute(sql`UPDATE papers SET title = 'Llama-Nemotron: ' || title
        WHERE id IN (SELECT id FROM papers ORDER BY id OFFSET 30 LIMIT 24)`);
    await analyzeArchive(tdb);
    const [row] = await selectRows<{ n: number }>(
      tdb.db,
      sql`SELECT count(*)::int AS n FROM papers p WHERE p.search_vector @@ websearch_to_tsquery('english', 'Llama-Nemotron')`,
    );
    const n = Number(row!.n);
    expect(n).toBeGreaterThanOrEqual(24);
    const { all } = await estimateRanking(tdb.db, { terms: parseSearchQuery('Llama-Nemotron') });
    expect(all).toBeLessThan(n * 4);
    expect(all).toBeGreaterThan(n / 4);
  });
});
