import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { selectRows } from '../src/db/queries/util.js';
import { importIssueText } from '../src/editorial/import.js';
import { ValidationError } from '../src/errors.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { authHeader } from './helpers/auth.js';
import { REAL_TITLES } from './helpers/real-edition.js';
import { gql } from './helpers/http.js';
import { type ResultOf, type VariablesOf, graphql } from './graphql.js';
import { repoRoot } from './helpers/server.js';

const REAL = path.resolve(repoRoot, '..', 'shared', 'newsletter', 'important-llm-papers-2025-05-05.txt');
const FIXTURES = path.join(repoRoot, 'tests', 'fixtures', 'newsletter');

let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  app = createApp({ db: tdb.db });
});
let editor: Record<string, string>;
beforeEach(async () => {
  await tdb.truncate();
  editor = await authHeader(tdb.db);
});
afterAll(async () => {
  await tdb?.destroy();
});

async function contentCounts() {
  const [row] = await selectRows<Record<string, number>>(
    tdb.db,
    sql`SELECT (SELECT count(*)::int FROM issues) AS issues, (SELECT count(*)::int FROM sections) AS sections,
               (SELECT count(*)::int FROM papers) AS papers, (SELECT count(*)::int FROM categories) AS categories`,
  );
  return row!;
}

const IMPORT = graphql(`mutation ImportIssue($input: ImportIssueInput!) {
  importIssue(input: $input) {
    __typename
    ... on ImportIssuePayload {
      created dryRun
      warnings { line message }
      preview { slug title weekStart weekEnd paperCount sections { number categoryName categorySlug papers { number title } } }
      issue { id slug title subtitle status weekStart weekEnd intro outro asides { title body } markdown
              sections { number category { slug name } papers { number title summary } } }
    }
    ... on UserError { message code }
    ... on ParseError { line reason }
    ... on ValidationError { path }
  }
}`);
type ImportResult = ResultOf<typeof IMPORT>['importIssue'];

async function importText(input: VariablesOf<typeof IMPORT>['input']) {
  const res = await gql(app, IMPORT, { input }, editor);
  expect(res.body.errors).toBeUndefined();
  return res.body.data!.importIssue;
}

/** The result as one member of the union; throws when it is another (the test's expectations say which it should be). */
function member<N extends ImportResult['__typename']>(
  r: ImportResult,
  name: N,
): Extract<ImportResult, { __typename: N }> {
  if (r.__typename !== name) throw new Error(`expected ${name}, got ${JSON.stringify(r)}`);
  return r as Extract<ImportResult, { __typename: N }>;
}

/** An import that succeeded, with its edition (null only in a dry run). */
async function imported(input: VariablesOf<typeof IMPORT>['input']) {
  const r = member(await importText(input), 'ImportIssuePayload');
  return { ...r, issue: r.issue! };
}

describe.skipIf(!existsSync(REAL))(
  'importing the real edition from ../shared (skipped when ../shared is absent)',
  () => {
    it('gives 1 issue, 5 sections, 15 papers with exact titles, the aside, the outro and a week warning', async () => {
      const text = readFileSync(REAL, 'utf8');
      const r = await imported({ text, format: 'PLAIN_TEXT', weekStart: '2025-05-05', publish: true });
      expect(r.__typename).toBe('ImportIssuePayload');
      expect(r.created).toBe(true);
      expect(await contentCounts()).toEqual({ issues: 1, sections: 5, papers: 15, categories: 5 });
      const issue = r.issue;
      expect(issue.slug).toBe('2025-05-05');
      expect(issue.weekStart).toBe('2025-05-05');
      expect(issue.weekEnd).toBe('2025-05-11');
      expect(issue.status).toBe('PUBLISHED');
      expect(issue.sections.map((s) => s.category.name)).toEqual([
        'LLM Progress & Technical Reports',
        'LLM Reasoning',
        'LLM Training & Fine-Tuning',
        'Vision Language Models',
        'LLM Evaluation',
      ]);
      expect(issue.sections.map((s) => s.category.slug)).toContain('llm-training-fine-tuning');
      const papers = issue.sections.flatMap((s) => s.papers);
      expect(papers.map((p) => [p.number, p.title])).toEqual(REAL_TITLES);
      // every summary line of the file is in the right paper: compare paragraphs with the lines between headings
      const lines = text.split('\n').map((l) => l.trim());
      for (const p of papers) {
        const start = lines.findIndex((l) => l === `${p.number}. ${p.title}`);
        expect(start, p.number).toBeGreaterThan(0);
        const firstParagraph = p.summary.split('\n\n')[0]!.replace(/^- /, '');
        expect(lines[start + 1]).toBe(firstParagraph);
      }
      // the e-book promo is an aside, not in the intro nor in any paper
      expect(issue.asides).toHaveLength(1);
      expect(issue.asides[0]!.title).toMatch(/^My New E-Book/);
      expect(issue.intro).not.toMatch(/E-Book|ebook/i);
      for (const p of papers) expect(p.summary).not.toMatch(/ebook|mentoring/i);
      // the mentoring lines are the outro; the last paper ends with its own last sentence
      expect(issue.outro).toMatch(/^Are you looking to start a career/);
      expect(issue.outro).toContain('https://lnkd.in/dXeg3KPW');
      expect(issue.outro).toContain('https://lnkd.in/dtdUYBrM');
      expect(papers[14]!.summary.trim().endsWith('socially adept language agents.')).toBe(true);
      // the week range problem is flagged with its line
      const weekWarnings = r.warnings.filter((w) => /week|7|days/i.test(w.message));
      expect(weekWarnings.length).toBeGreaterThan(0);
      expect(weekWarnings.some((w) => w.line === 1)).toBe(true);
    });

    it('without a week override the suspicious range is imported as written, and flagged', async () => {
      const r = member(await importText({ text: readFileSync(REAL, 'utf8'), dryRun: true }), 'ImportIssuePayload');
      expect(r.preview.weekStart).toBe('2025-04-05');
      expect(r.warnings.some((w) => /First Week of May 2025/i.test(w.message))).toBe(true);
    });
  },
);

describe('importIssue', () => {
  const clean = () => readFileSync(path.join(FIXTURES, 'clean-edition.txt'), 'utf8');

  it('dry run returns the preview and warnings and writes nothing', async () => {
    const r = await importText({ text: clean(), dryRun: true });
    expect(r.__typename).toBe('ImportIssuePayload');
    const payload = member(r, 'ImportIssuePayload');
    expect(payload.dryRun).toBe(true);
    expect(payload.issue).toBeNull();
    expect(payload.preview.paperCount).toBeGreaterThan(0);
    expect(payload.preview.sections[0]!.papers[0]!.number).toBe('1.1');
    expect(await contentCounts()).toEqual({ issues: 0, sections: 0, papers: 0, categories: 0 });
  });

  it('a second import of the same slug is a ConflictError; with replace it replaces atomically', async () => {
    const first = await imported({ text: clean() });
    expect(first.created).toBe(true);
    expect(first.issue.status).toBe('DRAFT');
    const before = await contentCounts();
    const again = await importText({ text: clean() });
    expect(again).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    expect(member(again, 'ConflictError').message).toMatch(/already exists/);
    expect(await contentCounts()).toEqual(before);

    // replace with an edited text: one paper fewer, a changed title
    const edited = first.issue.markdown.replace(/^### 1\.1\. .*$/m, '### 1.1. A Replaced Title');
    const replaced = await imported({ text: edited, format: 'MARKDOWN', replace: true, publish: true });
    expect(replaced.__typename).toBe('ImportIssuePayload');
    expect(replaced.created).toBe(false);
    expect(replaced.issue.id).toBe(first.issue.id);
    expect(replaced.issue.status).toBe('PUBLISHED');
    expect(replaced.issue.sections[0]!.papers[0]!.title).toBe('A Replaced Title');
    expect(await contentCounts()).toEqual(before);
  });

  it('categories are matched by slug, case- and punctuation-insensitively', async () => {
    await importText({ text: clean() });
    const cats =
      (await gql(app, graphql(`query Typename { __typename }`))) &&
      (await selectRows<{ slug: string; name: string }>(tdb.db, sql`SELECT slug, name FROM categories ORDER BY id`));
    const md = member(await importText({ text: clean(), dryRun: true }), 'ImportIssuePayload').preview;
    const renamed = clean().replace(
      md.sections[0]!.categoryName,
      md.sections[0]!.categoryName.toUpperCase().replace(/ /g, '  '),
    );
    await importText({ text: renamed, slug: 'another-slug' });
    const after = await selectRows<{ slug: string }>(tdb.db, sql`SELECT slug FROM categories ORDER BY id`);
    expect(after.map((c) => c.slug)).toEqual(cats.map((c) => c.slug));
  });

  it('parse failures are typed ParseErrors with the line; nothing is written', async () => {
    const nul = await importText({ text: 'Title for the Week From 05/05 to 11/05 2025\nSub\n\u0000oops' });
    expect(nul).toMatchObject({ __typename: 'ParseError', code: 'PARSE', reason: 'NUL_BYTE', line: 3 });
    const lone = await importText({ text: `Title\n\ud800` });
    expect(lone.__typename).toBe('ParseError');
    const empty = await importText({ text: '   \n\n' });
    expect(empty).toMatchObject({ __typename: 'ParseError', reason: 'EMPTY' });
    expect(await contentCounts()).toEqual({ issues: 0, sections: 0, papers: 0, categories: 0 });
  });

  it('validation failures are typed ValidationErrors with a path', async () => {
    const noYear = readFileSync(path.join(FIXTURES, 'no-year.txt'), 'utf8');
    const r = await importText({ text: noYear });
    expect(r).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', path: ['weekStart'] });
    const withYear = await importText({ text: noYear, year: 2024, dryRun: true });
    expect(withYear.__typename).toBe('ImportIssuePayload');
    const badSlug = await importText({ text: clean(), slug: 'Not A Slug' });
    expect(badSlug).toMatchObject({ __typename: 'ValidationError', path: ['slug'] });
    // dates outside 1900–9999, given or computed (a week starting on 9999-12-31 would end in year 10000)
    const late = await importText({ text: clean(), weekStart: '9999-12-31' });
    expect(late).toMatchObject({ __typename: 'ValidationError', path: ['weekEnd'] });
    const early = await importText({ text: noYear, year: 1066 });
    expect(early).toMatchObject({ __typename: 'ValidationError', path: ['input', 'year'] });
    const huge = await importText({ text: 'x'.repeat(900_001) });
    expect(huge).toMatchObject({ __typename: 'ValidationError', path: ['input', 'text'] });
    const strict = await importText({
      text: readFileSync(path.join(FIXTURES, 'numbering-problems.txt'), 'utf8'),
      strict: true,
    });
    expect(strict).toMatchObject({ __typename: 'ParseError', reason: 'NUMBERING' });
    expect(member(strict, 'ParseError').line).toBeGreaterThan(0);
    expect(await contentCounts()).toEqual({ issues: 0, sections: 0, papers: 0, categories: 0 });
  });

  it('is atomic: a database failure in the middle of the papers leaves nothing behind', async () => {
    // A real trigger in this test database rejects one paper, after the issue,
    // sections and categories were inserted in the same transaction.
    await tdb.db.execute(
      sql.raw(`CREATE FUNCTION reject_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.title LIKE '%BOOM%' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`),
    );
    await tdb.db.execute(
      sql.raw('CREATE TRIGGER papers_boom BEFORE INSERT ON papers FOR EACH ROW EXECUTE FUNCTION reject_boom()'),
    );
    try {
      const md = member(await importText({ text: clean(), dryRun: true }), 'ImportIssuePayload').preview;
      const lastTitle = md.sections.at(-1)!.papers.at(-1)!.title;
      const res = await gql(app, IMPORT, { input: { text: clean().replace(lastTitle, `${lastTitle} BOOM`) } }, editor);
      expect(res.body.errors?.[0]?.message).toBe('Unexpected error.');
      expect(JSON.stringify(res.body)).not.toMatch(/boom|insert|papers/i);
      expect(await contentCounts()).toEqual({ issues: 0, sections: 0, papers: 0, categories: 0 });
    } finally {
      await tdb.db.execute(sql.raw('DROP TRIGGER papers_boom ON papers'));
      await tdb.db.execute(sql.raw('DROP FUNCTION reject_boom()'));
    }
  });

  it('an edition is checked by the editorial rules, with paths into the document', async () => {
    const md = (sections: Array<[string, string]>) =>
      [
        '# Important LLM Papers for the Week From 05/05 to 11/05',
        '<!-- week: 2025-05-05..2025-05-11 -->',
        '',
        'Sub',
        ...sections.flatMap(([category, title], i) => [
          '',
          `## ${i + 1}. ${category}`,
          '',
          `### ${i + 1}.1. ${title}`,
          '',
          'S.',
        ]),
        '',
      ].join('\n');
    const rejected = async (text: string) => {
      const err = await importIssueText(tdb.db, text, { format: 'markdown', dryRun: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      return err as ValidationError;
    };
    const twice = await rejected(
      md([
        ['LLM Reasoning', 'A'],
        ['llm reasoning!', 'B'],
      ]),
    );
    expect(twice.path).toEqual(['sections', '1', 'categoryName']);
    expect((await rejected(md([['🙂', 'A']]))).path).toEqual(['sections', '0', 'categoryName']);
    const long = await rejected(md([['Agents', 'x'.repeat(501)]]));
    expect(long).toMatchObject({
      path: ['sections', '0', 'papers', '0', 'title'],
      message: expect.stringMatching(/at most 500/),
    });
    const ok = await importIssueText(tdb.db, md([['Agents', 'x'.repeat(500)]]), { format: 'markdown', dryRun: true });
    expect(ok.paperCount).toBe(1);
  });

  it('database failures of an import become the typed errors of the editorial mutations', async () => {
    // A trigger stands in for a concurrent import of the same slug (the unique key fails at insert time).
    await tdb.db.execute(
      sql.raw(`CREATE FUNCTION race_slug() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE unique_violation USING CONSTRAINT = 'issues_slug_key'; END $$`),
    );
    await tdb.db.execute(
      sql.raw('CREATE TRIGGER issues_race BEFORE INSERT ON issues FOR EACH ROW EXECUTE FUNCTION race_slug()'),
    );
    try {
      const raced = await importText({ text: clean() });
      expect(raced).toMatchObject({
        __typename: 'ConflictError',
        code: 'CONFLICT',
        message: 'An edition with this slug already exists',
      });
      expect(await contentCounts()).toEqual({ issues: 0, sections: 0, papers: 0, categories: 0 });
    } finally {
      await tdb.db.execute(sql.raw('DROP TRIGGER issues_race ON issues'));
      await tdb.db.execute(sql.raw('DROP FUNCTION race_slug()'));
    }
  });

  it('the same request sees the new data (no stale loader cache)', async () => {
    const res = await gql(
      app,
      graphql(
        `mutation ImportAndCount($t: String!) { importIssue(input: { text: $t, publish: true }) { ... on ImportIssuePayload { issue { slug paperCount } } } }`,
      ),
      { t: clean() },
      editor,
    );
    const result = res.body.data!.importIssue;
    const issue = 'issue' in result ? result.issue : undefined;
    expect(issue!.paperCount).toBeGreaterThan(0);
    const latest = await gql(app, graphql(`query LatestCount { latestIssue { slug paperCount } }`));
    expect(latest.body.data!.latestIssue).toEqual(issue);
  });
});

describe('export', () => {
  const clean = () => readFileSync(path.join(FIXTURES, 'clean-edition.txt'), 'utf8');

  it('Issue.markdown round-trips: export → import → export is identical, structure too', async () => {
    const first = await imported({ text: clean(), publish: true });
    const md1 = first.issue.markdown;
    const second = await imported({ text: md1, format: 'MARKDOWN', replace: true });
    expect(second.issue.markdown).toBe(md1);
    const strip = (i: typeof first.issue) => ({ ...i, markdown: undefined });
    expect(strip(second.issue)).toEqual(strip(first.issue));
  });

  it('GET /issues/SLUG.md serves the same text; unknown and draft editions are 404', async () => {
    const pub = await imported({ text: clean(), publish: true });
    const res = await app.fetch(`http://localhost/issues/${pub.issue.slug}.md`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(await res.text()).toBe(pub.issue.markdown);
    expect((await app.fetch('http://localhost/issues/nope.md')).status).toBe(404);
    const draft = await imported({ text: clean(), slug: 'a-draft' });
    expect(draft.issue.status).toBe('DRAFT');
    expect((await app.fetch('http://localhost/issues/a-draft.md')).status).toBe(404);
    expect((await app.fetch(`http://localhost/issues/${pub.issue.slug}.md`, { method: 'POST' })).status).toBe(405);
  });
});

describe('importIssue needs an editor token', () => {
  it('anonymous: FORBIDDEN and nothing written', async () => {
    const res = await gql(app, IMPORT, {
      input: { text: readFileSync(path.join(FIXTURES, 'clean-edition.txt'), 'utf8') },
    });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await contentCounts()).toEqual({ issues: 0, sections: 0, papers: 0, categories: 0 });
  });
});
