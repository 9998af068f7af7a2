// biome-ignore-all lint/suspicious/noExplicitAny: the data of untyped (string) documents built per selection
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';

// A page of papers carries their place in the archive (edition, section, category, week, number) only when a
// selected field needs it (issue 17: PostgreSQL pays for every value of a list's JSON arrays).
let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: 8, papersPerIssue: 12, categories: 4, seed: 11 });
  app = createApp({ db: tdb.db });
});
afterAll(async () => {
  await tdb?.destroy();
});

/** The per-paper JSON arrays of a statement: what `json_build_array(p.id, …)` lists. */
function paperArrays(statement: string): string[] {
  return [...statement.matchAll(/json_build_array\((p\.id\b[^()]*(?:\([^()]*\)[^()]*)*)\)/g)].map((m) => m[1]!);
}

// The place the lists carry is what the full selection shows; every other selection must give the same papers in
// the same order and the same values.
const FULL =
  'id title number sectionNumber position issue { slug title } category { slug name } citation(style: APA) bibtex';
const SELECTIONS = [
  'title',
  'id',
  'title issue { title }',
  'title category { name }',
  'number',
  'position',
  'citation(style: APA)',
  'bibtex',
  'summary',
];

// The three ways a client reads a page of papers below a parent.
const LISTS: Array<{ name: string; query: (sel: string) => string; papers: (data: any) => any[] }> = [
  {
    name: 'Query.categories → papers (one statement for the listing)',
    query: (sel) => `{ categories { slug papers(first: 7) { nodes { ${sel} } } } }`,
    papers: (d) => d.categories.flatMap((c: any) => c.papers.nodes),
  },
  {
    name: 'Category.papers',
    query: (sel) => `{ category(slug: "SLUG") { papers(first: 9) { nodes { ${sel} } } } }`,
    papers: (d) => d.category.papers.nodes,
  },
  {
    name: 'Issue.papers',
    query: (sel) => `{ issues(first: 3) { nodes { papers(first: 5) { edges { node { ${sel} } } } } } }`,
    papers: (d) => d.issues.nodes.flatMap((i: any) => i.papers.edges.map((e: any) => e.node)),
  },
];

async function categorySlug(): Promise<string> {
  const res = await gql(app, '{ categories { slug } }');
  return res.body.data!.categories[1].slug;
}

describe('lists carry the columns the selected fields need', () => {
  it('the category listing with titles and editions carries no place: only id, edition id, title and edition title', async () => {
    tdb.resetStatements();
    const res = await gql(app, '{ categories { name papers(first: 10) { nodes { title issue { title } } } } }');
    expect(res.body.errors).toBeUndefined();
    expect(tdb.statements).toHaveLength(1);
    const arrays = paperArrays(tdb.statements[0]!);
    expect(arrays).toEqual([expect.stringMatching(/^p\.id, p\.issue_id, p\.title, /)]);
    for (const column of ['section_id', 'category_id', 'week_start', 'section_number', 'position'])
      expect(arrays[0]).not.toContain(column);
  });

  it('a cursor (edges or pageInfo) or the number brings the place back', async () => {
    for (const sel of [
      'edges { cursor node { title } }',
      'pageInfo { endCursor } nodes { title }',
      'nodes { number }',
    ]) {
      tdb.resetStatements();
      const res = await gql(app, `{ categories { papers(first: 3) { ${sel} } } }`);
      expect(res.body.errors).toBeUndefined();
      const arrays = paperArrays(tdb.statements[0]!);
      expect(arrays[0]).toContain('p.week_start');
      expect(arrays[0]).toContain('p.position');
    }
  });

  for (const list of LISTS) {
    it(`${list.name}: every selection gives the papers of the full selection, in order, with the same values`, async () => {
      const slug = await categorySlug();
      const full = await gql(app, list.query(FULL).replace('SLUG', slug));
      expect(full.body.errors).toBeUndefined();
      const expected = list.papers(full.body.data);
      expect(expected.length).toBeGreaterThan(3);
      tdb.resetStatements();
      await gql(app, list.query(FULL).replace('SLUG', slug));
      const fullStatements = tdb.statements.length;
      for (const sel of SELECTIONS) {
        tdb.resetStatements();
        const res = await gql(app, list.query(`id ${sel}`).replace('SLUG', slug));
        expect(res.body.errors, sel).toBeUndefined();
        const got = list.papers(res.body.data);
        expect(
          got.map((p) => p.id),
          sel,
        ).toEqual(expected.map((p) => p.id));
        got.forEach((p, k) => {
          const e = expected[k];
          if ('number' in p) expect(p.number, sel).toBe(e.number);
          if ('position' in p) expect(p.position, sel).toBe(e.position);
          if ('title' in p) expect(p.title, sel).toBe(e.title);
          if (p.issue) expect(p.issue.title, sel).toBe(e.issue.title);
          if (p.category) expect(p.category.name, sel).toBe(e.category.name);
          if ('citation' in p) expect(p.citation, sel).toBe(e.citation);
          if ('bibtex' in p) expect(p.bibtex, sel).toBe(e.bibtex);
        });
        // What a field needs comes with the page: no paper is read again by id (summaries are details: their
        // own batched statement, as with every column set).
        const byId = tdb.statements.filter((s) => s.includes('JOIN papers p ON p.id = want.id'));
        if (sel !== 'summary') expect(byId, sel).toEqual([]);
        expect(tdb.statements.length, sel).toBeLessThanOrEqual(fullStatements + 1);
      }
    });
  }

  it('pages followed by cursors from a selection without the place elsewhere give every paper once', async () => {
    const slug = await categorySlug();
    const seen: string[] = [];
    let after: string | null = null;
    for (let k = 0; k < 20; k++) {
      const res: any = await gql(
        app,
        `query($after: String) { category(slug: "${slug}") { papers(first: 4, after: $after) { pageInfo { hasNextPage endCursor } nodes { id title } } } }`,
        { after },
      );
      expect(res.body.errors).toBeUndefined();
      const page = res.body.data.category.papers;
      seen.push(...page.nodes.map((n: any) => n.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const all = await gql(app, `{ category(slug: "${slug}") { paperCount } }`);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(all.body.data!.category.paperCount);
  });
});
