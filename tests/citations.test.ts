/**
 * Citations (issue 19): BibTeX that a BibTeX parser reads back to the same
 * title whatever the title holds, references in APA, IEEE and Chicago,
 * `Paper.bibtex` / `Paper.citation`, and the `.bib` views with conditional GET.
 */
import { parse } from '@retorquere/bibtex-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, EXAMPLE_TABS, createApp } from '../src/app.js';
import { ensureCategories, insertIssueContent } from '../src/db/queries/issue-content.js';
import { type CitablePaper, bibtexEntry, citation } from '../src/feeds/citations.js';
import { seedSample } from '../src/fixtures/seed.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';
import { graphql } from './graphql.js';

const readBack = (bib: string) => parse(bib, { sentenceCase: false, caseProtection: false });

const arxivPaper = (title: string): CitablePaper => ({
  title,
  arxivId: '2505.02387',
  url: 'https://arxiv.org/abs/2505.02387',
  issueSlug: 'citations',
  weekStart: '2025-06-09',
  number: '2.3',
});

describe('BibTeX', () => {
  const titles = [
    'RM-R1: Reward Modeling as Reasoning',
    'Curly {braces} and {{nested}} ones}{',
    '50% of 100% & more: costs in $ and €',
    'snake_case, #hashtags, ^carets and ~tildes',
    '\\LaTeX-looking \\textbf{bold} and $\\alpha$-divergence \\\\ \\',
    'Unicode: Über, naïve, 中文, π, — and emoji 🤖',
    '  Spaces\tand\nnewlines   inside  ',
  ];

  it('reads back to the same title, whatever it holds, with the arXiv fields', () => {
    for (const title of titles) {
      const lib = readBack(bibtexEntry(arxivPaper(title)));
      expect(lib.errors, title).toEqual([]);
      expect(lib.entries).toHaveLength(1);
      const entry = lib.entries[0]!;
      expect(entry.type).toBe('misc');
      expect(entry.key).toBe('arxiv:2505.02387');
      expect(entry.fields.title).toBe(title.trim().replace(/\s+/g, ' '));
      expect(entry.fields).toMatchObject({
        year: '2025',
        month: '5',
        eprint: '2505.02387',
        archiveprefix: 'arXiv',
        doi: '10.48550/arXiv.2505.02387',
        url: 'https://arxiv.org/abs/2505.02387',
      });
      expect(entry.fields.author).toBeUndefined();
    }
  });

  it('without an arXiv id: the edition’s key and date, the link as url, no eprint', () => {
    const paper = {
      title: 'A Blog Post',
      arxivId: null,
      url: 'https://example.com/a b?x=1#y',
      issueSlug: '2025-05-05',
      weekStart: '2025-05-05',
      number: '3.1',
    };
    const entry = readBack(bibtexEntry(paper)).entries[0]!;
    expect(entry.key).toBe('llmpapers:2025-05-05:3.1');
    expect(entry.fields).toMatchObject({ year: '2025', month: '5', url: 'https://example.com/a%20b?x=1#y' });
    expect(entry.fields.eprint).toBeUndefined();
    // An old-style arXiv id dates the paper by its own year (1999), not the edition's.
    const old = readBack(bibtexEntry({ ...paper, arxivId: 'hep-th/9901001' })).entries[0]!;
    expect(old.key).toBe('arxiv:hep-th-9901001');
    expect(old.fields).toMatchObject({ year: '1999', month: '1', eprint: 'hep-th/9901001' });
  });
});

describe('reference styles', () => {
  const paper = arxivPaper('RM-R1: Reward Modeling as Reasoning');
  it('APA, IEEE and Chicago, the title in the author’s place', async () => {
    expect(await citation(paper, 'APA')).toBe(
      'RM-R1: Reward Modeling as Reasoning (arXiv:2505.02387). (2025). arXiv. https://doi.org/10.48550/arXiv.2505.02387',
    );
    expect(await citation(paper, 'IEEE')).toBe(
      '“RM-R1: Reward Modeling as Reasoning,” arXiv preprint arXiv:2505.02387, 2025. [Online]. Available: https://arxiv.org/abs/2505.02387',
    );
    expect(await citation(paper, 'CHICAGO')).toBe(
      '“RM-R1: Reward Modeling as Reasoning.” 2025. Preprint, arXiv:2505.02387. https://doi.org/10.48550/arXiv.2505.02387.',
    );
  });
  it('keeps a title’s special characters as text', async () => {
    // (CSL reads <i>, <b>, <sup>… in a title as rich text: a tag pair is markup there, not text.)
    const odd = arxivPaper('50% & $x_1$ {braces}: a < b > c');
    for (const style of ['APA', 'IEEE', 'CHICAGO'] as const)
      expect(await citation(odd, style)).toContain('50% & $x_1$ {braces}: a < b > c');
  });
});

let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  const ids = await ensureCategories(tdb.db, [{ slug: 'llm-reasoning', name: 'LLM Reasoning', description: '' }]);
  for (const [slug, status] of [
    ['citations', 'published'],
    ['citations-draft', 'draft'],
  ] as const) {
    await insertIssueContent(tdb.db, {
      slug,
      title: 'Important LLM Papers for the Week of 2025-06-09',
      subtitle: '',
      weekStart: status === 'draft' ? '2025-06-16' : '2025-06-09',
      weekEnd: status === 'draft' ? '2025-06-22' : '2025-06-15',
      intro: '',
      outro: '',
      asides: [],
      status,
      publishedAt: status === 'published' ? new Date('2025-06-15T12:00:00Z') : null,
      sections: [
        {
          categoryId: ids.get('llm-reasoning')!,
          papers: [
            {
              title: 'RM-R1: Reward {Modeling} & 50% $Costs$',
              summary: 'A reward model that reasons.',
              url: 'https://arxiv.org/abs/2505.02387',
              arxivId: '2505.02387',
            },
            { title: 'A Paper Without arXiv', summary: 'Only a link.', url: 'https://example.com/p', arxivId: null },
          ],
        },
      ],
    });
  }
  app = createApp({ db: tdb.db });
}, 120_000);

afterAll(async () => {
  await tdb?.destroy();
});

describe('Paper.bibtex and Paper.citation', () => {
  const QUERY = graphql(`query Cite($issue: String!, $number: String!) {
    paper(issue: $issue, number: $number) { bibtex apa: citation ieee: citation(style: IEEE) chicago: citation(style: CHICAGO) }
  }`);

  it('answers for a paper, with every style', async () => {
    const res = await gql(app, QUERY, { issue: 'citations', number: '1.1' });
    expect(res.body.errors).toBeUndefined();
    const p = res.body.data!.paper!;
    expect(readBack(p.bibtex).entries[0]!.fields.title).toBe('RM-R1: Reward {Modeling} & 50% $Costs$');
    expect(p.apa).toContain('(arXiv:2505.02387). (2025). arXiv.');
    expect(p.ieee).toContain('arXiv preprint arXiv:2505.02387, 2025.');
    expect(p.chicago).toContain('Preprint, arXiv:2505.02387.');
  });

  it('answers on every paper of a page (the rows read lack no column it needs)', async () => {
    const res = await gql(
      app,
      graphql(`query { papers(first: 30) { nodes { number bibtex citation(style: IEEE) } } }`),
      {},
    );
    expect(res.body.errors).toBeUndefined();
    const nodes = res.body.data!.papers.nodes;
    expect(nodes.length).toBeGreaterThan(10);
    for (const n of nodes) expect(readBack(n.bibtex).entries).toHaveLength(1);
  });
});

describe('GET …/.bib', () => {
  it('an edition: every paper, text/x-bibtex, a strong ETag and 304 on If-None-Match', async () => {
    const res = await app.fetch('http://localhost/issues/citations.bib');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/x-bibtex; charset=utf-8');
    const lib = readBack(await res.text());
    expect(lib.errors).toEqual([]);
    expect(lib.entries.map((e) => e.key)).toEqual(['arxiv:2505.02387', 'llmpapers:citations:1.2']);
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.fetch('http://localhost/issues/citations.bib', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const sample = await app.fetch('http://localhost/issues/2025-05-05.bib');
    expect(readBack(await sample.text()).entries.length).toBeGreaterThan(10);
  });

  it('one paper, and nothing of a draft or of an edition that does not exist', async () => {
    const res = await app.fetch('http://localhost/issues/citations/papers/1.1.bib');
    expect(res.status).toBe(200);
    expect(readBack(await res.text()).entries[0]!.fields.eprint).toBe('2505.02387');
    for (const path of ['/issues/citations-draft.bib', '/issues/citations-draft/papers/1.1.bib', '/issues/nope.bib'])
      expect((await app.fetch(`http://localhost${path}`)).status, path).toBe(404);
    expect((await app.fetch('http://localhost/issues/citations.bib', { method: 'POST' })).status).toBe(405);
  });
});

describe('GraphiQL’s example tabs', () => {
  it('each runs on the sample edition without errors (the citation tab included)', async () => {
    expect(EXAMPLE_TABS.some((t) => t.query.includes('citation(style: IEEE)'))).toBe(true);
    for (const tab of EXAMPLE_TABS) {
      const res = await app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: tab.query, variables: tab.variables ? JSON.parse(tab.variables) : {} }),
      });
      const body = (await res.json()) as { errors?: unknown; data?: Record<string, unknown> };
      expect(body.errors, tab.query).toBeUndefined();
      for (const value of Object.values(body.data!)) expect(value, tab.query).not.toBeNull();
    }
  });
});
