/**
 * Issue 18's ranking cases, each on a small archive written for it, through
 * the app: title matches above summary-only ones, negation that only filters,
 * exact matches that suppress typo matches, relaxation when one word matches
 * nothing, the domain vocabulary, fragments with ellipses and phrases
 * highlighted as one span. Measured relevance over a larger judged set is
 * `npm run eval:search` (tests/relevance/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { type IssueContentSection, ensureCategories, insertIssueContent } from '../src/db/queries/issue-content.js';
import { SUMMARY_WEIGHTS, titleOnly } from '../src/db/queries/search.js';
import { selectRows } from '../src/db/queries/util.js';
import { sql } from '../src/db/orm.js';
import { parseSearchQuery, vocabularyKey } from '../src/search/query.js';
import { SYNONYM_SETS } from '../src/search/vocabulary.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';
import { graphql } from './graphql.js';

let tdb: TestDb;
let app: App;

const LONG_SUMMARY = [
  'Large models are trained on ever more data, and their evaluation lags behind their training.',
  'This paragraph says nothing about the subject of the search at all, and goes on for a while.',
  'In the middle we finally mention speculative decoding with a small draft model that proposes tokens.',
  'Then the summary goes on about other things: datasets, licences, hardware and the cost of serving.',
  'It ends with a long sentence about future work that has nothing to do with the query either.',
].join(' ');

const PAPERS: Array<{ title: string; summary: string }> = [
  {
    title: 'Thinking Fast and Slow in Language Models',
    summary: 'Models that think step by step; we ask them to think, think again and think once more.',
  },
  {
    title: 'Test-Time Compute for Hard Problems',
    summary: 'When models think longer they solve more; we think about how to think, and when to stop.',
  },
  { title: 'Learning When to Think: Adaptive Reasoning Budgets', summary: 'A policy decides how long to reason.' },
  { title: 'Scaling Reasoning With Verifiers', summary: 'Verifiers score candidate solutions of reasoning models.' },
  { title: 'When to Think and When to Answer', summary: 'Short answers for easy questions, long ones for hard.' },
  { title: 'Reward Models for Reasoning', summary: 'A reward model trained on reasoning traces.' },
  { title: 'Reasoning Without Rewards', summary: 'Self-play reasoning with no learned signal at all.' },
  { title: 'MiniMax-M1: Scaling Test-Time Compute', summary: 'MiniMax releases a hybrid attention reasoning model.' },
  {
    title: 'Entropy Minimization for LLM Reasoning',
    summary: 'Minimizing the entropy of the output improves reasoning.',
  },
  {
    title: 'Chain of Thought Prompting Elicits Reasoning',
    summary: 'Writing out a chain of thought improves arithmetic and commonsense reasoning.',
  },
  { title: 'Is CoT Monitoring Reliable?', summary: 'We monitor the CoT of reasoning models for misbehaviour.' },
  { title: 'Scaling Reinforcement Learning for Agents', summary: 'Reinforcement learning with tool calls.' },
  { title: 'Speculative Decoding Revisited', summary: LONG_SUMMARY },
  { title: 'Decoding Kernels and Speculative Execution', summary: 'GPU kernels for decoding; speculative execution.' },
];

beforeAll(async () => {
  tdb = await createTestDb();
  const ids = await ensureCategories(tdb.db, [{ slug: 'llm-reasoning', name: 'LLM Reasoning', description: '' }]);
  const sections: IssueContentSection[] = [
    {
      categoryId: ids.get('llm-reasoning')!,
      papers: PAPERS.map((p) => {
        const arxivId = p.title.startsWith('MiniMax') ? '2506.13585' : null;
        return { ...p, url: arxivId ? `https://arxiv.org/abs/${arxivId}` : null, arxivId };
      }),
    },
  ];
  await insertIssueContent(tdb.db, {
    slug: 'ranking',
    title: 'Important LLM Papers for the Week of 2025-05-05',
    subtitle: '',
    weekStart: '2025-05-05',
    weekEnd: '2025-05-11',
    intro: '',
    outro: '',
    asides: [],
    status: 'published',
    publishedAt: new Date('2025-05-11T12:00:00Z'),
    sections,
  });
  // Freshness: the same words, editions six years apart (their own vocabulary, so the cases above are unchanged).
  const aged = [
    {
      slug: 'fresh',
      week: '2025-06-02',
      papers: [
        {
          title: 'Distillation at Scale',
          summary: 'One teacher, many students: distillation with knowledge of the data.',
        },
      ],
    },
    {
      slug: 'aged',
      week: '2019-06-03',
      papers: [
        { title: 'Distillation of Teacher Traces', summary: 'Distillation of traces, then distillation of logits.' },
        { title: 'Knowledge Distillation for Small Students', summary: 'Students learn from a larger teacher.' },
      ],
    },
  ];
  for (const e of aged) {
    await insertIssueContent(tdb.db, {
      slug: e.slug,
      title: `Important LLM Papers for the Week of ${e.week}`,
      subtitle: '',
      weekStart: e.week,
      weekEnd: e.week,
      intro: '',
      outro: '',
      asides: [],
      status: 'published',
      publishedAt: new Date(`${e.week}T12:00:00Z`),
      sections: [
        {
          categoryId: ids.get('llm-reasoning')!,
          papers: e.papers.map((p) => ({ ...p, url: null, arxivId: null })),
        },
      ],
    });
  }
  app = createApp({ db: tdb.db });
}, 120_000);

afterAll(async () => {
  await tdb?.destroy();
});

const SEARCH = graphql(`query Ranked($q: String!) {
  searchPapers(query: $q, first: 20) {
    relaxed exhaustive
    edges { score node { title } matches { field fragment highlights { start end } } }
  }
}`);

async function search(q: string) {
  const res = await gql(app, SEARCH, { q });
  expect(res.body.errors).toBeUndefined();
  return res.body.data!.searchPapers;
}
const titles = (r: Awaited<ReturnType<typeof search>>) => r.edges.map((e) => e.node.title);

describe('ranking', () => {
  it('`when to think`: the titles holding "When to Think" come first, above a summary full of "think"', async () => {
    const r = await search('when to think');
    expect(titles(r).slice(0, 2).sort()).toEqual([
      'Learning When to Think: Adaptive Reasoning Budgets',
      'When to Think and When to Answer',
    ]);
    expect(titles(r)).toContain('Thinking Fast and Slow in Language Models');
    expect(r.relaxed).toBe(false);
    expect(r.exhaustive).toBe(true);
  });

  it('`reasoning -reward`: the excluded word only filters; the others keep their scores and order', async () => {
    const all = await search('reasoning');
    const without = await search('reasoning -reward');
    expect(titles(without)).not.toContain('Reward Models for Reasoning');
    expect(titles(without)).not.toContain('Reasoning Without Rewards');
    for (const e of without.edges) expect(e.score).toBeGreaterThan(0);
    const kept = all.edges.filter((e) => !/reward/i.test(`${e.node.title}`) && titles(without).includes(e.node.title));
    expect(without.edges.map((e) => [e.node.title, e.score])).toEqual(kept.map((e) => [e.node.title, e.score]));
  });

  it('`minimax`: an exact match suppresses typo matches ("Entropy Minimization" is not a result)', async () => {
    const r = await search('minimax');
    expect(titles(r)).toEqual(['MiniMax-M1: Scaling Test-Time Compute']);
    expect(r.relaxed).toBe(false);
  });

  it('a word found nowhere relaxes the search to the best partial matches, and says so', async () => {
    const r = await search('chain of thought faithfulness');
    expect(r.relaxed).toBe(true);
    expect(titles(r)[0]).toBe('Chain of Thought Prompting Elicits Reasoning');
    expect(titles(r)).toContain('Is CoT Monitoring Reliable?');
    // without the unmatched word, nothing is relaxed
    expect((await search('chain of thought')).relaxed).toBe(false);
  });

  it('words in the order and adjacency of the query rank above the same words scattered in a title', async () => {
    const r = await search('speculative decoding drafter');
    expect(r.relaxed).toBe(true);
    expect(titles(r).slice(0, 2)).toEqual([
      'Speculative Decoding Revisited',
      'Decoding Kernels and Speculative Execution',
    ]);
    const phrase = await search('speculative decoding');
    expect(titles(phrase)[0]).toBe('Speculative Decoding Revisited');
  });

  it('a newer edition outranks an older one that only repeats the word more, not one whose title holds more', async () => {
    const one = await search('distillation');
    expect(titles(one)).toEqual([
      'Distillation at Scale',
      'Distillation of Teacher Traces',
      'Knowledge Distillation for Small Students',
    ]);
    const both = await search('knowledge distillation');
    expect(titles(both)).toEqual(['Knowledge Distillation for Small Students', 'Distillation at Scale']);
    // freshness is bounded: the six-year gap moves a score by less than a quarter
    expect(one.edges[0]!.score - one.edges[1]!.score).toBeLessThan(0.25);
  });

  it('a typo with no exact match still finds the title (relaxed)', async () => {
    const r = await search('speculatve decodng');
    expect(r.relaxed).toBe(true);
    expect(titles(r)[0]).toBe('Speculative Decoding Revisited');
  });
});

describe('identifiers', () => {
  it('a query of an arXiv id (bare, versioned, with "arXiv", as a URL) gives the paper carrying it', async () => {
    for (const q of ['2506.13585', 'arXiv 2506.13585v2', 'https://arxiv.org/abs/2506.13585v1', 'arXiv:2506.13585']) {
      const r = await search(q);
      expect(titles(r), q).toEqual(['MiniMax-M1: Scaling Test-Time Compute']);
      expect(r.relaxed).toBe(false);
    }
  });
});

describe('the domain vocabulary', () => {
  it('an acronym finds the spelled-out term and the other way round', async () => {
    expect(titles(await search('rl agents'))).toContain('Scaling Reinforcement Learning for Agents');
    const cot = titles(await search('cot'));
    expect(cot).toContain('Chain of Thought Prompting Elicits Reasoning');
    expect(cot).toContain('Is CoT Monitoring Reliable?');
    expect(titles(await search('chain of thought'))).toContain('Is CoT Monitoring Reliable?');
    expect(titles(await search('"chain-of-thought"'))).toContain('Is CoT Monitoring Reliable?');
  });

  it('is parsed into groups of alternatives; `or`, phrases and excluded terms as written', () => {
    expect(parseSearchQuery('grpo rl -vision')).toEqual({
      groups: [
        ['grpo', 'group relative policy optimization'].map((t) => (t.includes(' ') ? `"${t}"` : t)),
        ['rl', '"reinforcement learning"'],
      ],
      excluded: ['vision'],
      fuzzy: 'grpo rl',
      phrase: false,
    });
    expect(parseSearchQuery('rlhf or dpo "reward model" -"vision language"')).toEqual({
      groups: [
        ['rlhf', '"reinforcement learning from human feedback"', 'dpo', '"direct preference optimization"'],
        ['"reward model"'],
      ],
      excluded: ['"vision language"'],
      fuzzy: 'rlhf dpo reward model',
      phrase: true,
    });
    expect(parseSearchQuery('Chain-of-Thought faithfulness').groups).toEqual([
      ['Chain-of-Thought', 'cot'],
      ['faithfulness'],
    ]);
  });

  it('every set holds at least two distinct terms, and no term is in two sets', () => {
    const seen = new Map<string, number>();
    SYNONYM_SETS.forEach((set, i) => {
      const keys = new Set(set.map(vocabularyKey));
      expect(keys.size, set.join(' / ')).toBeGreaterThanOrEqual(2);
      for (const k of keys) {
        expect(seen.get(k), `"${k}" is in two sets`).toBeUndefined();
        seen.set(k, i);
      }
    });
  });
});

describe('text matches', () => {
  it('a fragment cut inside the summary starts and ends with an ellipsis; highlights point at the words', async () => {
    const r = await search('"speculative decoding"');
    const summary = r.edges[0]!.matches.find((m) => m.field === 'SUMMARY')!;
    expect(summary.fragment.startsWith('… ')).toBe(true);
    expect(summary.fragment.endsWith(' …')).toBe(true);
    const marked = summary.highlights.map((h) => summary.fragment.slice(h.start, h.end));
    expect(marked).toEqual(['speculative decoding']);
  });

  it('a quoted phrase with a stop word inside is one highlight', async () => {
    const r = await search('"chain of thought"');
    const edge = r.edges.find((e) => e.node.title === 'Chain of Thought Prompting Elicits Reasoning')!;
    const title = edge.matches.find((m) => m.field === 'TITLE')!;
    expect(title.highlights.map((h) => title.fragment.slice(h.start, h.end))).toEqual(['Chain of Thought']);
  });

  it('a summary shown whole has no ellipsis', async () => {
    const r = await search('self-play');
    const summary = r.edges[0]!.matches.find((m) => m.field === 'SUMMARY')!;
    expect(summary.fragment).toBe('Self-play reasoning with no learned signal at all.');
  });
});

describe('hostile query shapes', () => {
  // The parser meets operators alone, unbalanced quotes, only exclusions, hundreds of terms, tsquery
  // syntax and control characters: each gets results or a typed error, never a 500.
  const SHAPES = [
    '""',
    '"',
    '-',
    '- - -',
    'or',
    'or or or',
    'reward or',
    'or reasoning',
    '"a" or',
    'reasoning -',
    '-reward',
    '-"reward model"',
    'a '.repeat(249),
    '"a" '.repeat(124),
    'reasoning '.repeat(50),
    `${'-x '.repeat(160)}reasoning`,
    '"'.repeat(499),
    '🚀🚀',
    '\u0001\u0002',
    "o'reilly \\ ' ; -- DROP",
    '(reward) & | ! <-> :*',
    'reasoning:A model:*',
    'arxiv',
    'arXiv:',
    'https://arxiv.org/abs/',
    'chain-of-thought '.repeat(25),
  ];
  it('each answers with results or BAD_USER_INPUT, never an internal error', async () => {
    const ANY = graphql(
      `query AnyShape($q: String!) { searchPapers(query: $q) { relaxed exhaustive totalCount edges { node { title } } } }`,
    );
    for (const q of SHAPES) {
      const res = await gql(app, ANY, { q });
      expect(res.status, q).toBe(200);
      const code = res.body.errors?.[0]?.extensions?.code;
      if (code !== undefined) expect(code, q).toBe('BAD_USER_INPUT');
      else expect(res.body.data?.searchPapers.edges.length, q).toBeLessThanOrEqual(20);
    }
  });
});

describe('the score reads the title and the summary from the one search vector', () => {
  // scoreSql tests a title with the query's lexemes marked weight A, and ranks the summary with
  // ts_rank_cd weights counting weight B only, rather than copying each part out per row (ts_filter):
  // the same answers, checked here on every paper of the archive for queries of every shape.
  const QUERIES = [
    'think',
    'when to think',
    '"chain of thought"',
    'reward or reasoning',
    'test-time compute',
    "MiniMax's model",
    '"speculative decoding" kernels',
    "o'reilly",
  ];
  it.each(QUERIES)('%s', async (text) => {
    const q = sql`websearch_to_tsquery('english', ${text}::text)`;
    const rows = await selectRows<{ id: number; t1: boolean; t2: boolean; r1: number; r2: number }>(
      tdb.db,
      sql`SELECT p.id, ts_filter(p.search_vector, '{a}') @@ ${q} AS t1, p.search_vector @@ ${titleOnly(q)} AS t2,
            ts_rank_cd(ts_filter(p.search_vector, '{b}'), ${q}, 32)::float8 AS r1,
            ts_rank_cd(${SUMMARY_WEIGHTS}, p.search_vector, ${q}, 32)::float8 AS r2
          FROM papers p ORDER BY p.id`,
    );
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) {
      expect(r.t2, `${text}: title of paper ${r.id}`).toBe(r.t1);
      expect(Number(r.r2), `${text}: summary rank of paper ${r.id}`).toBeCloseTo(Number(r.r1), 12);
    }
    // and the case the rewrite exists for: some titles match, some do not
    if (text === 'when to think') expect(new Set(rows.map((r) => r.t1))).toEqual(new Set([true, false]));
  });
});
