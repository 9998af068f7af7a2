import { sql } from 'drizzle-orm';
import { parseSearchQuery } from '../src/search/query.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { ensureCategories, insertIssueContent, type IssueContentSection } from '../src/db/queries/issue-content.js';
import {
  RELEVANCE_CANDIDATES,
  type SearchArgs,
  fewMatches,
  relatedPapersSql,
  searchFacetsSql,
  searchPage,
  searchPageSql,
} from '../src/db/queries/search.js';
import { selectRows } from '../src/db/queries/util.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { errorCode, gql } from './helpers/http.js';
import { type ResultOf, type VariablesOf, graphql } from './graphql.js';

let tdb: TestDb;
let app: App;

type P = { title: string; summary: string; arxivId?: string };

async function edition(
  slug: string,
  weekStart: string,
  status: 'draft' | 'published',
  sections: Array<[string, P[]]>,
  ids: Map<string, number>,
) {
  const weekEnd = new Date(Date.parse(`${weekStart}T00:00:00Z`) + 6 * 864e5).toISOString().slice(0, 10);
  const secs: IssueContentSection[] = sections.map(([cat, papers]) => ({
    categoryId: ids.get(cat)!,
    papers: papers.map((p) => ({
      ...p,
      url: p.arxivId ? `https://arxiv.org/abs/${p.arxivId}` : null,
      arxivId: p.arxivId ?? null,
    })),
  }));
  await insertIssueContent(tdb.db, {
    slug,
    title: `Important LLM Papers for the Week of ${weekStart}`,
    subtitle: '',
    weekStart,
    weekEnd,
    intro: '',
    outro: '',
    asides: [],
    status,
    publishedAt: status === 'published' ? new Date(`${weekEnd}T12:00:00Z`) : null,
    sections: secs,
  });
}

beforeAll(async () => {
  tdb = await createTestDb();
  const ids = await ensureCategories(tdb.db, [
    { slug: 'llm-reasoning', name: 'LLM Reasoning', description: '' },
    { slug: 'ai-agents', name: 'AI Agents', description: '' },
    { slug: 'alignment-safety', name: 'Alignment & Safety', description: '' },
  ]);
  await edition(
    'e1',
    '2025-01-06',
    'published',
    [
      [
        'llm-reasoning',
        [
          {
            title: 'Quokka Reward Modeling as Reasoning',
            summary: 'We study reward modeling as a reasoning task.',
            arxivId: '2505.03335',
          },
          {
            title: 'A Study of Reasoning Models',
            summary: 'The quokka appears in the summary. Another quokka, and a third quokka here.',
          },
        ],
      ],
      [
        'ai-agents',
        [
          { title: 'Quokka Agents Everywhere', summary: 'Quokka agents use tools; the quokka is everywhere.' },
          {
            title: 'Llama-Nemotron: Efficient Reasoning Models',
            summary: 'NVIDIA releases open reasoning models with a reasoning toggle.',
            arxivId: '2505.00949',
          },
        ],
      ],
    ],
    ids,
  );
  await edition(
    'e2',
    '2025-02-03',
    'published',
    [
      [
        'alignment-safety',
        [
          {
            title: 'Wombat Safety Benchmarks',
            summary: 'Safety evaluation of language models with the wombat suite, for tools and agents.',
          },
          {
            title: 'Marsupial Reward Modeling Revisited',
            summary: 'Reward modeling as reasoning, revisited: the marsupial variant of quokka reward modeling.',
          },
        ],
      ],
      [
        'llm-reasoning',
        [
          {
            title: 'Chain of Thought Reasoning in Small Models',
            summary: 'Chain of thought prompting improves reasoning. We ablate the thought chain.',
            arxivId: 'hep-th/9901001',
          },
          { title: 'Thought Chains Without Prompts', summary: 'Prompts without any explicit steps.' },
        ],
      ],
      [
        'ai-agents',
        [
          {
            title: 'Émigré Überlegung 🚀 Numbat',
            summary: 'Straße 🚀🚀 déjà vu: the numbat café 𝒳 serves numbat agents.',
          },
        ],
      ],
    ],
    ids,
  );
  await edition(
    'e3',
    '2025-03-03',
    'draft',
    [
      [
        'llm-reasoning',
        [{ title: 'Secret Quokka Draft', summary: 'A quokka draft that only editors may see.', arxivId: '2601.00001' }],
      ],
    ],
    ids,
  );
  app = createApp({ db: tdb.db });
}, 120_000);
afterAll(async () => {
  await tdb?.destroy();
});

const SEARCH =
  graphql(`query Search($q: String!, $first: Int, $after: String, $filter: PaperFilter, $order: SearchOrder) {
  searchPapers(query: $q, first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount facets { category { slug name } count }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { score cursor node { title number arxivId issue { slug } category { slug } } matches { field fragment highlights { start end } } }
  }
}`);

// Big pages without text matches: the cost limit counts matches × highlights per edge.
const SEARCH_LIGHT =
  graphql(`query SearchLight($q: String!, $first: Int, $after: String, $filter: PaperFilter, $order: SearchOrder) {
  searchPapers(query: $q, first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount facets { category { slug name } count }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { score cursor node { title number arxivId issue { slug } category { slug } } }
  }
}`);

type SearchVars = Omit<VariablesOf<typeof SEARCH>, 'q'>;
type Connection = ResultOf<typeof SEARCH>['searchPapers'];
type Edge = Connection['edges'][number];
/** A page as `ok` returns it: a big page (SEARCH_LIGHT) has no `matches`. */
type Page = Omit<Connection, 'edges'> & { edges: Array<Omit<Edge, 'matches'> & { matches?: Edge['matches'] }> };

async function search(q: string, vars: SearchVars = {}) {
  const big = typeof vars.first === 'number' && vars.first > 20;
  const res = big ? await gql(app, SEARCH_LIGHT, { q, ...vars }) : await gql(app, SEARCH, { q, ...vars });
  expect(res.status, JSON.stringify(res.body.errors)).toBe(200);
  return res;
}
async function ok(q: string, vars: SearchVars = {}): Promise<Page> {
  const res = await search(q, vars);
  expect(res.body.errors).toBeUndefined();
  return res.body.data!.searchPapers;
}
const titles = (c: { edges: Array<{ node: { title: string } }> }) => c.edges.map((e) => e.node.title);

describe('searchPapers: full text and ranking', () => {
  it('ranks title matches above summary matches, and both above either', async () => {
    const c = await ok('quokka');
    expect(titles(c)).toEqual([
      'Quokka Agents Everywhere', // title and summary
      'Quokka Reward Modeling as Reasoning', // title
      'A Study of Reasoning Models', // summary, three times
      'Marsupial Reward Modeling Revisited', // summary, once
    ]);
    const scores = c.edges.map((e) => e.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(new Set(scores).size).toBe(scores.length);
    expect(c.totalCount).toBe(4);
  });

  it('stems words and supports phrases, exclusions and `or`', async () => {
    expect(titles(await ok('reasoning model')).sort()).toContain('Llama-Nemotron: Efficient Reasoning Models');
    expect(titles(await ok('"chain of thought"'))).toEqual(['Chain of Thought Reasoning in Small Models']);
    const excl = titles(await ok('quokka -agents'));
    expect(excl).not.toContain('Quokka Agents Everywhere');
    expect(excl).toHaveLength(3);
    expect(titles(await ok('wombat or numbat')).sort()).toEqual([
      'Wombat Safety Benchmarks',
      'Émigré Überlegung 🚀 Numbat',
    ]);
  });

  it('highlight offsets point at the matched words in the fragment (UTF-16 offsets)', async () => {
    const cases: Array<[string, RegExp]> = [
      ['quokka', /^quokka$/i],
      ['numbat', /^numbat$/i],
      ['überlegung', /^überlegung$/i],
      ['"chain of thought"', /^(chain|thought)( (of )?(chain|thought))*$/i],
      ['reward modeling', /^(reward|modeling|reward modeling)$/i],
    ];
    for (const [q, word] of cases) {
      const c = await ok(q);
      expect(c.edges.length).toBeGreaterThan(0);
      for (const e of c.edges) {
        expect(e.matches!.length).toBeGreaterThan(0);
        for (const m of e.matches!) {
          expect(['TITLE', 'SUMMARY']).toContain(m.field);
          expect(m.highlights.length).toBeGreaterThan(0);
          for (const h of m.highlights) {
            expect(h.end).toBeGreaterThan(h.start);
            expect(m.fragment.slice(h.start, h.end)).toMatch(word);
          }
        }
      }
    }
    // Offsets after astral characters (emoji, 𝒳) count UTF-16 code units, as JS strings do.
    const emoji = (await ok('numbat')).edges[0]!;
    const summary = emoji.matches!.find((m) => m.field === 'SUMMARY')!;
    expect(summary.fragment).toContain('🚀🚀');
    expect(summary.highlights.map((h) => summary.fragment.slice(h.start, h.end))).toEqual(['numbat', 'numbat']);
    const title = emoji.matches!.find((m) => m.field === 'TITLE')!;
    expect(title.fragment).toBe('Émigré Überlegung 🚀 Numbat');
    expect(title.highlights).toEqual([{ start: 21, end: 27 }]);
  });

  it('typos in titles and model names: "Llama Nemotorn" finds Llama-Nemotron', async () => {
    const c = await ok('Llama Nemotorn');
    expect(c.edges[0]!.node.title).toBe('Llama-Nemotron: Efficient Reasoning Models');
    const m = c.edges[0]!.matches!.find((x) => x.field === 'TITLE')!;
    expect(m.highlights.map((h) => m.fragment.slice(h.start, h.end))).toEqual(['Llama', 'Nemotron']);
    expect(titles(await ok('Wombta Safety'))[0]).toBe('Wombat Safety Benchmarks');
    expect(c.totalCount).toBe(c.facets.reduce((n, f) => n + f.count, 0));
  });

  it('pages by (score, id) cursors without duplicates or gaps, in both orders', async () => {
    for (const order of ['RELEVANCE', 'NEWEST'] as const) {
      const all = titles(await ok('reasoning or quokka', { first: 100, order }));
      expect(all.length).toBeGreaterThan(5);
      const walked: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 20; i++) {
        const c = await ok('reasoning or quokka', { first: 2, after, order });
        walked.push(...titles(c));
        if (i > 0) expect(c.pageInfo.hasPreviousPage).toBe(true);
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
      }
      expect(walked).toEqual(all);
    }
    const newest = await ok('reasoning or quokka', { first: 100, order: 'NEWEST' });
    const weeks = newest.edges.map((e) => e.node.issue.slug);
    expect(weeks).toEqual([...weeks].sort().reverse());
  });

  it('a cursor of another search, or a forged one, is a BAD_USER_INPUT', async () => {
    const c = await ok('quokka', { first: 1 });
    expect(errorCode(await search('wombat', { after: c.pageInfo.endCursor }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await search('quokka', { after: c.pageInfo.endCursor, order: 'NEWEST' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await search('quokka', { after: 'bm9wZQ' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await search('quokka', { first: 0 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await search('quokka', { first: 101 }))).toBe('BAD_USER_INPUT');
  });
});

describe('searchPapers: RELEVANCE over a bounded candidate set', () => {
  const vis = { drafts: false };
  const args = (over: Partial<SearchArgs>): SearchArgs => ({
    terms: parseSearchQuery('reasoning or quokka'),
    order: 'RELEVANCE',
    mode: 'text',
    cursor: null,
    limit: 100,
    ...over,
  });

  it('ranks every match exactly when there are fewer matches than candidates', async () => {
    const exact = await searchPage(tdb.db, args({}), vis);
    expect(exact.length).toBeGreaterThan(5);
    expect(exact.length).toBeLessThan(RELEVANCE_CANDIDATES);
    const bounded = await searchPage(tdb.db, args({ candidates: exact.length }), vis);
    expect(bounded.map((h) => [h.id, h.score])).toEqual(exact.map((h) => [h.id, h.score]));
    const newest = await searchPage(tdb.db, { ...args({}), order: 'NEWEST' }, vis);
    expect(new Set(exact.map((h) => h.id))).toEqual(new Set(newest.map((h) => h.id)));
  });

  it('with more matches than candidates, ranks the most recent ones only', async () => {
    const newest = await searchPage(tdb.db, { ...args({}), order: 'NEWEST' }, vis);
    const bounded = await searchPage(tdb.db, args({ candidates: 3 }), vis);
    expect(new Set(bounded.map((h) => h.id))).toEqual(new Set(newest.slice(0, 3).map((h) => h.id)));
    const scores = bounded.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('a (score, id) cursor walk over the candidate set has no duplicates or gaps', async () => {
    for (const candidates of [3, 5, 1000]) {
      const all = await searchPage(tdb.db, args({ candidates }), vis);
      const walked: number[] = [];
      let cursor: [number, number] | null = null;
      for (let i = 0; i < 50; i++) {
        const page: Awaited<ReturnType<typeof searchPage>> = await searchPage(
          tdb.db,
          args({ candidates, cursor, limit: 2 }),
          vis,
        );
        walked.push(...page.map((h) => h.id));
        if (page.length < 2) break;
        const last = page[page.length - 1]!;
        cursor = [last.score, last.id];
      }
      expect(walked).toEqual(all.map((h) => h.id));
      expect(new Set(walked).size).toBe(walked.length);
    }
  });

  it('a window of recent editions gives the same candidates as the whole archive, and widens itself when too narrow', async () => {
    const newest = await searchPage(tdb.db, { ...args({}), order: 'NEWEST' }, vis);
    expect(newest.length).toBeGreaterThan(4);
    const plain = await searchPage(tdb.db, args({ candidates: 3 }), vis);
    const third = newest[2]!;
    const oldest = newest[newest.length - 1]!;
    for (const walk of [false, true]) {
      // wide enough: the window holds the 3 most recent matches
      const wide = await searchPage(tdb.db, args({ candidates: 3, window: { since: oldest.weekStart, walk } }), vis);
      expect(wide.map((h) => [h.id, h.score])).toEqual(plain.map((h) => [h.id, h.score]));
      const exact = await searchPage(tdb.db, args({ candidates: 3, window: { since: third.weekStart, walk } }), vis);
      expect(exact.map((h) => h.id)).toEqual(plain.map((h) => h.id));
      // too narrow (no match in it): the same result, from the whole archive
      const narrow = await searchPage(tdb.db, args({ candidates: 3, window: { since: '9999-01-01', walk } }), vis);
      expect(narrow.map((h) => [h.id, h.score])).toEqual(plain.map((h) => [h.id, h.score]));
    }
  });

  it('NEWEST from all the matches (few) gives the same pages as the walk of the archive order', async () => {
    expect(await fewMatches(tdb.db, { terms: parseSearchQuery('reasoning or quokka') })).toBe(true);
    for (const query of ['reasoning or quokka', 'quokka', 'nonexistentword']) {
      const newest = { ...args({ terms: parseSearchQuery(query) }), order: 'NEWEST' as const, limit: 3 };
      let cursor: SearchArgs['cursor'] = null;
      for (let i = 0; i < 4; i++) {
        const walked = await searchPage(tdb.db, { ...newest, cursor }, vis);
        const few = await searchPage(tdb.db, { ...newest, cursor, few: true }, vis);
        expect(few.map((h) => h.id)).toEqual(walked.map((h) => h.id));
        const last = walked[walked.length - 1];
        if (!last || walked.length < 3) break;
        cursor = [last.weekStart, last.issueId, last.sectionNumber, last.position];
      }
    }
  });

  it('drafts are not candidates for anonymous readers, but are for editors', async () => {
    const anon = await searchPage(tdb.db, args({ terms: parseSearchQuery('quokka') }), vis);
    const editor = await searchPage(tdb.db, args({ terms: parseSearchQuery('quokka') }), { drafts: true });
    expect(anon.map((h) => h.title)).not.toContain('Secret Quokka Draft');
    expect(editor.map((h) => h.title)).toContain('Secret Quokka Draft');
    expect(editor.length).toBe(anon.length + 1);
  });
});

describe('searchPapers: filters, facets, visibility', () => {
  it('filters by categories (any of), edition and week range, and combines them', async () => {
    const q = 'reasoning or quokka or safety';
    const all = await ok(q, { first: 100 });
    const cats = await ok(q, { first: 100, filter: { categories: ['ai-agents', 'alignment-safety'] } });
    expect(cats.edges.length).toBeGreaterThan(0);
    expect(cats.edges.every((e) => ['ai-agents', 'alignment-safety'].includes(e.node.category.slug))).toBe(true);
    expect(cats.totalCount).toBe(
      all.edges.filter((e) => ['ai-agents', 'alignment-safety'].includes(e.node.category.slug)).length,
    );
    const issue = await ok(q, { first: 100, filter: { issue: 'e2' } });
    expect(issue.edges.every((e) => e.node.issue.slug === 'e2')).toBe(true);
    expect(issue.totalCount).toBe(all.edges.filter((e) => e.node.issue.slug === 'e2').length);
    const from = await ok(q, { first: 100, filter: { weekFrom: '2025-01-07' } });
    expect(from.edges.map((e) => e.node.issue.slug)).toEqual(expect.arrayContaining(['e2']));
    expect(from.edges.every((e) => e.node.issue.slug === 'e2')).toBe(true);
    const to = await ok(q, { first: 100, filter: { weekTo: '2025-01-06' } });
    expect(to.edges.every((e) => e.node.issue.slug === 'e1')).toBe(true);
    expect(from.totalCount + to.totalCount).toBe(all.totalCount);
    const none = await ok(q, { filter: { weekFrom: '2025-01-07', weekTo: '2025-01-31' } });
    expect(none.totalCount).toBe(0);
    const combined = await ok(q, {
      first: 100,
      filter: { categories: ['llm-reasoning'], issue: 'e2', weekFrom: '2025-02-03', weekTo: '2025-02-03' },
    });
    expect(combined.edges.length).toBeGreaterThan(0);
    expect(combined.edges.every((e) => e.node.issue.slug === 'e2' && e.node.category.slug === 'llm-reasoning')).toBe(
      true,
    );
  });

  it('facets count the results per category and sum to totalCount', async () => {
    for (const [q, filter] of [
      ['reasoning or quokka or safety', undefined],
      ['quokka', undefined],
      ['reasoning', { categories: ['llm-reasoning', 'ai-agents'] }],
      ['Llama Nemotorn', undefined],
      ['the of', undefined],
    ] as Array<[string, SearchVars['filter']]>) {
      const c = await ok(q, { first: 100, filter });
      expect(c.facets.reduce((n, f) => n + f.count, 0)).toBe(c.totalCount);
      for (const f of c.facets) {
        expect(f.count).toBe(c.edges.filter((e) => e.node.category.slug === f.category.slug).length);
        expect(f.category.name).toBeTruthy();
      }
    }
    const c = await ok('reasoning or quokka or safety');
    expect(c.facets.map((f) => f.count)).toEqual([...c.facets.map((f) => f.count)].sort((a, b) => b - a));
  });

  it('anonymous readers never find drafts', async () => {
    const c = await ok('secret quokka draft', { first: 100 });
    expect(titles(c)).not.toContain('Secret Quokka Draft');
    expect((await ok('quokka', { first: 100 })).edges.every((e) => e.node.issue.slug !== 'e3')).toBe(true);
    const fuzzy = await ok('Secrte Quokak Draftt', { first: 100 });
    expect(titles(fuzzy)).not.toContain('Secret Quokka Draft');
    const res = await gql(app, graphql(`query DraftById { paperByIdentifier(id: "2601.00001") { title } }`));
    expect(res.body.data!.paperByIdentifier).toBeNull();
  });
});

describe('searchPapers: hostile queries', () => {
  it('empty, blank, too long and NUL queries are BAD_USER_INPUT, before any SQL', async () => {
    for (const q of ['', '   \n\t', 'x'.repeat(10_000), 'quokka\u0000', '\u0000']) {
      tdb.resetStatements();
      const res = await search(q);
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
      expect(res.body.errors![0]!.message).toMatch(/query/);
      expect(tdb.statements).toEqual([]);
    }
    expect(errorCode(await search('-quokka'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await search('-quokka or -wombat'))).toBe('BAD_USER_INPUT');
  });

  it('stop words only, wildcards and punctuation give an empty result', async () => {
    for (const q of ['the of and', 'a', '%', '_', '\\', '%_\\', '%%%', '***', '"', '""', '-', '&|!():*', "'"]) {
      const c = await ok(q);
      expect(c.totalCount).toBe(0);
      expect(c.edges).toEqual([]);
    }
  });

  it('SQL fragments are just words', async () => {
    for (const q of [
      "'; DROP TABLE papers; --",
      "quokka' OR '1'='1",
      'quokka) OR (1=1',
      "%' OR 1=1 --",
      'quokka:* & !x',
      '$1 $$ ; select pg_sleep(10)',
    ]) {
      const res = await search(q);
      expect(res.body.errors).toBeUndefined();
    }
    expect(titles(await ok("quokka' OR '1'='1"))).toContain('Quokka Agents Everywhere');
    const [row] = await selectRows<{ n: number }>(tdb.db, sql`SELECT count(*)::int AS n FROM papers`);
    expect(Number(row!.n)).toBe(10);
  });

  it('no plan scans the papers table sequentially (with seq scans discouraged, every statement has an index path)', async () => {
    const vis = { drafts: false };
    const statements = [
      searchPageSql(
        { terms: parseSearchQuery('quokka'), order: 'RELEVANCE', mode: 'text', cursor: null, limit: 21 },
        vis,
      ),
      searchPageSql(
        { terms: parseSearchQuery('quokka'), order: 'RELEVANCE', mode: 'text', cursor: [0.5, 3], limit: 21 },
        vis,
      ),
      searchPageSql(
        {
          terms: parseSearchQuery('"chain of thought" -x'),
          order: 'NEWEST',
          mode: 'text',
          cursor: ['2025-02-03', 2, 1, 1],
          limit: 21,
        },
        vis,
      ),
      searchPageSql(
        { terms: parseSearchQuery('Llama Nemotorn'), order: 'RELEVANCE', mode: 'fuzzy', cursor: null, limit: 21 },
        vis,
      ),
      searchFacetsSql(
        {
          terms: parseSearchQuery('quokka'),
          mode: 'text',
          filter: { categorySlugs: ['ai-agents'], weekFrom: '2025-01-01' },
        },
        vis,
      ),
      searchFacetsSql({ terms: parseSearchQuery('Llama Nemotorn'), mode: 'fuzzy' }, vis),
      relatedPapersSql([1, 2], 5, vis),
    ];
    for (const statement of statements) {
      const plan = await tdb.db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL enable_seqscan = off`);
        return selectRows<Record<string, string>>(tx as never, sql`EXPLAIN ${statement}`);
      });
      const text = plan.map((r) => Object.values(r)[0]).join('\n');
      expect(text).not.toMatch(/Seq Scan on papers/);
      expect(text).toMatch(/Index/);
    }
  });
});

describe('paperByIdentifier', () => {
  it('resolves arXiv ids with or without version, abs/pdf URLs and DOIs', async () => {
    const forms = [
      '2505.03335',
      '2505.03335v2',
      'arXiv:2505.03335v1',
      ' 2505.03335 ',
      'https://arxiv.org/abs/2505.03335',
      'https://arxiv.org/abs/2505.03335v3',
      'http://arxiv.org/pdf/2505.03335v2',
      'https://arxiv.org/pdf/2505.03335.pdf',
      'https://www.arxiv.org/pdf/2505.03335v1.pdf',
      'arxiv.org/abs/2505.03335?context=cs',
      '10.48550/arXiv.2505.03335',
      '10.48550/ARXIV.2505.03335',
      'https://doi.org/10.48550/arXiv.2505.03335',
      'doi:10.48550/arXiv.2505.03335',
    ];
    for (const id of forms) {
      const res = await gql(
        app,
        graphql(`query ByIdentifier($id: String!) { paperByIdentifier(id: $id) { title arxivId } }`),
        { id },
      );
      expect(res.body.errors, id).toBeUndefined();
      expect(res.body.data!.paperByIdentifier, id).toEqual({
        title: 'Quokka Reward Modeling as Reasoning',
        arxivId: '2505.03335',
      });
    }
    const old = await gql(
      app,
      graphql(
        `query OldStyle { a: paperByIdentifier(id: "hep-th/9901001v2") { title } b: paperByIdentifier(id: "https://arxiv.org/abs/hep-th/9901001") { title } }`,
      ),
    );
    expect(old.body.data).toEqual({
      a: { title: 'Chain of Thought Reasoning in Small Models' },
      b: { title: 'Chain of Thought Reasoning in Small Models' },
    });
  });

  it('unknown ids are null; things that are not arXiv identifiers are BAD_USER_INPUT', async () => {
    const res = await gql(app, graphql(`query UnknownId { paperByIdentifier(id: "2101.00001") { title } }`));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.paperByIdentifier).toBeNull();
    for (const id of [
      '',
      'hello',
      '2505.333',
      '10.1000/xyz123',
      'https://example.com/abs/2505.03335',
      "2505.03335' OR 1=1",
      '2505.03335\u0000',
      'x'.repeat(10_000),
    ]) {
      const bad = await gql(app, graphql(`query BadId($id: String!) { paperByIdentifier(id: $id) { title } }`), {
        id,
      });
      expect(errorCode(bad), id).toBe('BAD_USER_INPUT');
    }
  });
});

describe('Paper.related', () => {
  it('returns papers of other editions sharing terms, best first, never the paper itself', async () => {
    const res = await gql(
      app,
      graphql(`query Related { searchPapers(query: "reward modeling", first: 10) { edges { node { id title issue { slug }
          related { id title issue { slug } }
          two: related(first: 1) { id } } } } }`),
    );
    expect(res.body.errors).toBeUndefined();
    const edges = res.body.data!.searchPapers.edges;
    expect(edges.length).toBeGreaterThan(1);
    for (const { node } of edges) {
      expect(node.related.length).toBeLessThanOrEqual(5);
      expect(node.two.length).toBeLessThanOrEqual(1);
      for (const r of node.related) {
        expect(r.id).not.toBe(node.id);
        expect(r.issue.slug).not.toBe(node.issue.slug);
        expect(r.issue.slug).not.toBe('e3');
      }
    }
    const marsupial = edges.find((e) => e.node.title === 'Marsupial Reward Modeling Revisited')!.node;
    expect(marsupial.related[0]!.title).toBe('Quokka Reward Modeling as Reasoning');
  });

  it('is batched: one statement for every paper of a page', async () => {
    tdb.resetStatements();
    const res = await gql(
      app,
      graphql(`query RelatedPage { papers(first: 20) { nodes { related(first: 3) { id } } } }`),
    );
    expect(res.body.errors).toBeUndefined();
    expect(tdb.statements.filter((s) => s.includes('pg_stats'))).toHaveLength(1);
    expect(
      errorCode(
        await gql(app, graphql(`query RelatedNone { papers(first: 1) { nodes { related(first: 0) { id } } } }`)),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(
      errorCode(
        await gql(app, graphql(`query RelatedTooMany { papers(first: 1) { nodes { related(first: 51) { id } } } }`)),
      ),
    ).toBe('BAD_USER_INPUT');
  });
});

describe('Category.papers', () => {
  it('takes the week filter and both orders', async () => {
    const q = graphql(`query CategoryWeeks($f: PaperFilter, $d: OrderDirection!) { category(slug: "llm-reasoning") {
      papers(first: 100, filter: $f, orderBy: { field: WEEK, direction: $d }) { totalCount nodes { title issue { slug } } } } }`);
    const desc = await gql(app, q, { d: 'DESC' });
    const asc = await gql(app, q, { d: 'ASC' });
    const slugsDesc = desc.body.data!.category!.papers.nodes.map((n) => n.issue.slug);
    const slugsAsc = asc.body.data!.category!.papers.nodes.map((n) => n.issue.slug);
    expect(slugsDesc).toEqual(['e2', 'e2', 'e1', 'e1']);
    expect(slugsAsc).toEqual(['e1', 'e1', 'e2', 'e2']);
    const ranged = await gql(app, q, { d: 'ASC', f: { weekFrom: '2025-01-07', weekTo: '2025-12-31' } });
    expect(ranged.body.data!.category!.papers.totalCount).toBe(2);
    expect(ranged.body.data!.category!.papers.nodes.map((n) => n.title)).toEqual([
      'Chain of Thought Reasoning in Small Models',
      'Thought Chains Without Prompts',
    ]);
    const before = await gql(app, q, { d: 'DESC', f: { weekTo: '2025-01-06' } });
    expect(before.body.data!.category!.papers.nodes.map((n) => n.issue.slug)).toEqual(['e1', 'e1']);
  });
});
