/**
 * Issue 14, "No write is ever lost or silently changed", for imports: stable
 * paper ids on replace, numbering gaps, inline Markdown in one-line fields,
 * the table of contents as written and the import warnings, through the real
 * database and the app's fetch.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { selectRows } from '../src/db/queries/util.js';
import { matchPapers, titleKey } from '../src/newsletter/match.js';
import { type ImportOptions, importIssueText } from '../src/editorial/import.js';
import { parseIssue } from '../src/newsletter/parse/index.js';
import { authHeader } from './helpers/auth.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { errorCode, gql } from './helpers/http.js';
import { type VariablesOf, graphql } from './graphql.js';

let tdb: TestDb;
let app: App;
let editor: Record<string, string>;

beforeAll(async () => {
  tdb = await createTestDb();
  app = createApp({ db: tdb.db });
});
beforeEach(async () => {
  await tdb.truncate();
  editor = await authHeader(tdb.db);
});
afterAll(async () => {
  await tdb?.destroy();
});

// ---------------------------------------------------------------------------
// Helpers: editions written as Markdown, read back through GraphQL and SQL
// ---------------------------------------------------------------------------

interface PaperSpec {
  /** Heading number; default: its place. */
  n?: string;
  title: string;
  arxiv?: string;
  summary?: string;
}
interface SectionSpec {
  name: string;
  papers: PaperSpec[];
}

/** An edition in the Markdown format (week 2025-05-05), with a TOC of the section names unless given. */
function markdownIssue(
  sections: SectionSpec[],
  extra: { subtitle?: string; toc?: string[]; title?: string } = {},
): string {
  const lines = [
    `# ${extra.title ?? 'Important LLM Papers for the Week From 05/05 to 11/05'}`,
    '<!-- week: 2025-05-05..2025-05-11 -->',
    '',
    extra.subtitle ?? 'Stay Updated',
    '',
    '## Table of Contents',
    '',
    ...(extra.toc ?? sections.map((s) => s.name)).map((e) => `- ${e}`),
  ];
  sections.forEach((s, i) => {
    lines.push('', `## ${i + 1}. ${s.name}`);
    s.papers.forEach((p, j) => {
      lines.push('', `### ${p.n ?? `${i + 1}.${j + 1}`}. ${p.title}`);
      if (p.arxiv) lines.push(`<!-- arxiv: ${p.arxiv} -->`);
      lines.push('', p.summary ?? `Summary of ${p.title}.`);
    });
  });
  return `${lines.join('\n')}\n`;
}

const md = (options: Partial<ImportOptions> = {}): ImportOptions => ({ format: 'markdown', ...options });

interface PaperView {
  id: string;
  number: string;
  numberAsWritten: string | null;
  title: string;
  summary: string;
  version: number;
}

const ISSUE = graphql(`query ReadIssue($slug: String!) {
  issue(slug: $slug) {
    id version title subtitle markdown
    asides { title body }
    sections { number category { slug name } papers { id number numberAsWritten title summary version } }
  }
}`);

async function readIssue(slug = '2025-05-05') {
  const res = await gql(app, ISSUE, { slug }, editor);
  expect(res.body.errors).toBeUndefined();
  return res.body.data!.issue!;
}

async function papersByTitle(slug = '2025-05-05'): Promise<Map<string, PaperView>> {
  const issue = await readIssue(slug);
  return new Map(issue.sections.flatMap((s) => s.papers).map((p): [string, PaperView] => [p.title, p]));
}

async function sectionRows(): Promise<Array<{ id: number; number: number; slug: string }>> {
  return selectRows(
    tdb.db,
    sql`SELECT s.id, s.number, c.slug FROM sections s JOIN categories c ON c.id = s.category_id ORDER BY s.number`,
  );
}

const IMPORT = graphql(`mutation ImportIssue($input: ImportIssueInput!) {
  importIssue(input: $input) {
    __typename
    ... on ImportIssuePayload {
      created warnings { line message }
      preview { sections { number papers { number numberAsWritten title } } }
      issue { slug importWarnings { line message } sections { papers { id number numberAsWritten title version } } }
    }
    ... on UserError { message code }
  }
}`);

/** Imports through the API; every caller expects the import to succeed. */
async function importViaGraphQL(input: VariablesOf<typeof IMPORT>['input']) {
  const res = await gql(app, IMPORT, { input }, editor);
  expect(res.body.errors).toBeUndefined();
  const result = res.body.data!.importIssue;
  if (result.__typename !== 'ImportIssuePayload') throw new Error(`import refused: ${JSON.stringify(result)}`);
  return { ...result, issue: result.issue! };
}

// ---------------------------------------------------------------------------
// 1. Stable identity on replace
// ---------------------------------------------------------------------------

describe('matching papers on replace (pure)', () => {
  const existing = [
    { id: 1, number: '1.1', title: 'Alpha: A Model', arxivId: '2505.00001' },
    { id: 2, number: '1.2', title: 'Beta', arxivId: null },
    { id: 3, number: '1.3', title: 'Beta', arxivId: null },
    { id: 4, number: '2.1', title: 'Gamma', arxivId: '2505.00004' },
  ];

  it('matches by arXiv id first (version and case ignored), then number and title, then title anywhere', () => {
    const ids = matchPapers(existing, [
      { number: '1.1', title: 'Beta', arxivId: null }, // title only: the first unmatched "Beta" (1.2)
      { number: '1.2', title: 'Renamed Alpha', arxivId: '2505.00001V2' }, // arXiv id
      { number: '1.3', title: 'beta', arxivId: null }, // number and title: 1.3
      { number: '2.1', title: 'Gamma', arxivId: '2505.99999' }, // arXiv ids differ: falls back to number and title
      { number: '2.2', title: 'Delta', arxivId: null }, // new
    ]);
    expect(ids).toEqual([2, 1, 3, 4, null]);
  });

  it('uses each existing paper at most once', () => {
    expect(
      matchPapers(existing, [
        { number: '1.1', title: 'Gamma', arxivId: null },
        { number: '1.2', title: 'GAMMA', arxivId: null },
      ]),
    ).toEqual([4, null]);
  });

  it('compares titles without case, punctuation or extra whitespace', () => {
    expect(titleKey('RM-R1: Reward  Modeling as Reasoning!')).toBe(titleKey('rm r1 reward modeling as reasoning'));
    expect(titleKey('Self-play')).not.toBe(titleKey('Selfplay'));
    expect(titleKey('???')).toBe('=???');
  });
});

describe('import --replace keeps the ids of papers that are still there', () => {
  const before: SectionSpec[] = [
    {
      name: 'LLM Reasoning',
      papers: [
        { title: 'Absolute Zero: Reinforced Self-play Reasoning', arxiv: '2505.03335' },
        { title: 'RM-R1: Reward Modeling as Reasoning' },
        { title: 'Llama-Nemotron: Efficient Reasoning Models' },
      ],
    },
    { name: 'LLM Evaluation', papers: [{ title: 'FormalMATH' }, { title: 'A Paper That Goes Away' }] },
    { name: 'Vision Language Models', papers: [{ title: 'Unchanged Vision Paper' }] },
  ];
  // Swapped numbers, a moved paper, a renamed one (same arXiv id), a punctuation-only title change,
  // a removed paper and section, a new paper and section.
  const after: SectionSpec[] = [
    {
      name: 'LLM Evaluation',
      papers: [
        { title: 'FormalMATH', summary: 'A new summary.' },
        { title: 'Llama Nemotron — Efficient Reasoning Models' },
      ],
    },
    {
      name: 'LLM Reasoning',
      papers: [
        { title: 'RM-R1: Reward Modeling as Reasoning' },
        { title: 'Absolute Zero (renamed)', arxiv: '2505.03335' },
        { title: 'A Brand New Paper' },
      ],
    },
    { name: 'Vision Language Models', papers: [{ title: 'Unchanged Vision Paper' }] },
  ];

  it('updates kept papers in place, bumps versions only of changed ones, inserts and deletes the rest', async () => {
    const first = await importIssueText(tdb.db, markdownIssue(before), md());
    const old = await papersByTitle();
    const oldSections = await sectionRows();
    const result = await importIssueText(tdb.db, markdownIssue(after), md({ replace: true }));
    expect(result.issueId).toBe(first.issueId);
    expect(result.replaced).toEqual({ kept: 5, changed: 4, added: 1, removed: 1 });

    const now = await papersByTitle();
    const expectKept = (oldTitle: string, newTitle: string, number: string, version: number) => {
      const paper = now.get(newTitle)!;
      expect(paper, newTitle).toBeDefined();
      expect(paper.id).toBe(old.get(oldTitle)!.id);
      expect(paper.number).toBe(number);
      expect(paper.version).toBe(version);
    };
    expectKept('FormalMATH', 'FormalMATH', '1.1', 2); // summary and number changed
    expectKept('Llama-Nemotron: Efficient Reasoning Models', 'Llama Nemotron — Efficient Reasoning Models', '1.2', 2); // moved, title by normalisation
    expectKept('RM-R1: Reward Modeling as Reasoning', 'RM-R1: Reward Modeling as Reasoning', '2.1', 2); // renumbered (2.2 → 2.1 of its section)
    expectKept('Absolute Zero: Reinforced Self-play Reasoning', 'Absolute Zero (renamed)', '2.2', 2); // arXiv id
    expectKept('Unchanged Vision Paper', 'Unchanged Vision Paper', '3.1', 1); // nothing changed: same version
    expect(now.get('FormalMATH')!.summary).toBe('A new summary.');
    expect(now.get('A Brand New Paper')!.version).toBe(1);
    expect([...old.values()].map((p) => p.id)).not.toContain(now.get('A Brand New Paper')!.id);
    expect(now.has('A Paper That Goes Away')).toBe(false);
    expect(
      (
        await gql(
          app,
          graphql(`query NodeById($id: ID!) { node(id: $id) { id } }`),
          { id: old.get('A Paper That Goes Away')!.id },
          editor,
        )
      ).body.data!.node,
    ).toBeNull();

    // Section rows of the categories still there are kept, renumbered.
    const sections = await sectionRows();
    const idOf = (rows: typeof sections, slug: string) => rows.find((r) => r.slug === slug)?.id;
    expect(sections.map((s) => [s.number, s.slug])).toEqual([
      [1, 'llm-evaluation'],
      [2, 'llm-reasoning'],
      [3, 'vision-language-models'],
    ]);
    for (const slug of ['llm-evaluation', 'llm-reasoning', 'vision-language-models'])
      expect(idOf(sections, slug)).toBe(idOf(oldSections, slug));
  });

  it('importIssue with replace behaves the same, and a client version stays valid for an unchanged paper', async () => {
    const created = await importViaGraphQL({ text: markdownIssue(before), format: 'MARKDOWN' });
    const oldIds = created.issue.sections.flatMap((s) => s.papers).map((p) => p.id);
    const replaced = await importViaGraphQL({ text: markdownIssue(after), format: 'MARKDOWN', replace: true });
    expect(replaced.created).toBe(false);
    const papers = replaced.issue.sections.flatMap((s) => s.papers);
    expect(papers.filter((p) => oldIds.includes(p.id))).toHaveLength(5);
    const unchanged = papers.find((p) => p.title === 'Unchanged Vision Paper')!;
    const update = await gql(
      app,
      graphql(
        `mutation EditTitle($id: ID!, $v: Int!) { updatePaper(input: { id: $id, version: $v, title: "Edited" }) { __typename } }`,
      ),
      { id: unchanged.id, v: unchanged.version },
      editor,
    );
    expect(update.body.data!.updatePaper.__typename).toBe('UpdatePaperPayload');
  });

  it('replacing with the same text changes nothing of the papers', async () => {
    await importIssueText(tdb.db, markdownIssue(before), md());
    const old = await papersByTitle();
    const result = await importIssueText(tdb.db, markdownIssue(before), md({ replace: true }));
    expect(result.replaced).toEqual({ kept: 6, changed: 0, added: 0, removed: 0 });
    expect(await papersByTitle()).toEqual(old);
  });

  it('uses a bounded number of statements, whatever the size of the edition', async () => {
    const sized = (n: number, suffix: string): SectionSpec[] =>
      ['A', 'B', 'C'].map((name) => ({
        name: `Category ${name}`,
        papers: Array.from({ length: n }, (_, i) => ({ title: `Paper ${name}${i} ${suffix}` })),
      }));
    const count = async (n: number) => {
      await tdb.truncate();
      await importIssueText(tdb.db, markdownIssue(sized(n, 'x')), md());
      // Every paper changes: half keep their title (number and title), half are new.
      const next = sized(n, 'x').map((s) => ({
        ...s,
        papers: s.papers.map((p, i) => (i % 2 ? { title: `${p.title} new` } : { ...p, summary: 'changed' })),
      }));
      tdb.resetStatements();
      await importIssueText(tdb.db, markdownIssue(next), md({ replace: true }));
      return tdb.statements.filter((s) => !/^(begin|commit|savepoint|release)/i.test(s.trim())).length;
    };
    const small = await count(2);
    const large = await count(60);
    expect(large).toBe(small);
    expect(small).toBeLessThanOrEqual(20);
  });

  it('is atomic: a failure while updating the kept papers leaves the edition as it was', async () => {
    await importIssueText(tdb.db, markdownIssue(before), md());
    const old = await readIssue();
    await tdb.db.execute(
      sql.raw(`CREATE FUNCTION reject_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.title <> OLD.title THEN RAISE EXCEPTION 'no'; END IF; RETURN NEW; END $$`),
    );
    await tdb.db.execute(
      sql.raw('CREATE TRIGGER papers_reject BEFORE UPDATE ON papers FOR EACH ROW EXECUTE FUNCTION reject_update()'),
    );
    try {
      await expect(importIssueText(tdb.db, markdownIssue(after), md({ replace: true }))).rejects.toThrow();
    } finally {
      await tdb.db.execute(sql.raw('DROP TRIGGER papers_reject ON papers'));
      await tdb.db.execute(sql.raw('DROP FUNCTION reject_update()'));
    }
    expect(await readIssue()).toEqual(old);
  });
});

// ---------------------------------------------------------------------------
// 2. Numbering gaps
// ---------------------------------------------------------------------------

describe('a numbering gap is stored contiguously, with the number as written', () => {
  const gapped = markdownIssue([
    {
      name: 'LLM Reasoning',
      papers: [
        { n: '1.1', title: 'First' },
        { n: '1.3', title: 'Written Three' },
        { n: '1.4', title: 'Written Four' },
      ],
    },
  ]);

  it('stores 1.2 with number_as_written "1.3", says so in the warning, and shows it in the preview', async () => {
    const r = await importViaGraphQL({ text: gapped, format: 'MARKDOWN', publish: true });
    expect(r.warnings.map((w) => w.message)).toContain('paper numbers jump from 1.1 to 1.3; stored as 1.2');
    expect(r.preview.sections[0]!.papers.map((p) => [p.number, p.numberAsWritten])).toEqual([
      ['1.1', null],
      ['1.2', '1.3'],
      ['1.3', '1.4'],
    ]);
    expect(r.issue.sections[0]!.papers.map((p) => [p.number, p.numberAsWritten, p.title])).toEqual([
      ['1.1', null, 'First'],
      ['1.2', '1.3', 'Written Three'],
      ['1.3', '1.4', 'Written Four'],
    ]);
    const rows = await selectRows<{ number: string; written: string | null }>(
      tdb.db,
      sql`SELECT section_number || '.' || position AS number, number_as_written AS written FROM papers ORDER BY position`,
    );
    expect(rows).toEqual([
      { number: '1.1', written: null },
      { number: '1.2', written: '1.3' },
      { number: '1.3', written: '1.4' },
    ]);
  });

  it('finds a paper by the written number: paper(issue, number) and /papers/N.md (307) when no paper has it', async () => {
    await importIssueText(tdb.db, gapped, md({ publish: true }));
    const lookup = async (number: string) =>
      (
        await gql(
          app,
          graphql(
            `query PaperByNumber($n: String!) { paper(issue: "2025-05-05", number: $n) { number numberAsWritten title } }`,
          ),
          { n: number },
        )
      ).body.data!.paper;
    // 1.3 exists now (it was written 1.4): the current number wins.
    expect(await lookup('1.3')).toEqual({ number: '1.3', numberAsWritten: '1.4', title: 'Written Four' });
    expect(await lookup('1.4')).toEqual({ number: '1.3', numberAsWritten: '1.4', title: 'Written Four' });
    expect(await lookup('1.9')).toBeNull();

    const moved = await app.fetch('http://localhost/issues/2025-05-05/papers/1.4.md', { redirect: 'manual' });
    expect(moved.status).toBe(307);
    expect(moved.headers.get('location')).toBe('http://localhost/issues/2025-05-05/papers/1.3.md');
    const target = await app.fetch('http://localhost/issues/2025-05-05/papers/1.3.md');
    expect(target.status).toBe(200);
    expect(await target.text()).toContain('Written Four');
    expect((await app.fetch('http://localhost/issues/2025-05-05/papers/1.9.md')).status).toBe(404);
  });

  it('keeps number_as_written when an editor renumbers, and through export → import --replace', async () => {
    await importIssueText(tdb.db, gapped, md({ publish: true }));
    const first = (await readIssue()).sections[0]!.papers[0]!;
    const del = await gql(
      app,
      graphql(`mutation DeletePaper($id: ID!) { deletePaper(input: { id: $id }) { __typename } }`),
      { id: first.id },
      editor,
    );
    expect(del.body.data!.deletePaper.__typename).toBe('DeletePaperPayload');
    let issue = await readIssue();
    expect(issue.sections[0]!.papers.map((p) => [p.number, p.numberAsWritten])).toEqual([
      ['1.1', '1.3'],
      ['1.2', '1.4'],
    ]);
    // The export records the written numbers; importing it again keeps them (and the ids).
    expect(issue.markdown).toContain('### 1.1. Written Three\n<!-- written: 1.3 -->\n');
    const ids = issue.sections[0]!.papers.map((p) => p.id);
    await importIssueText(tdb.db, issue.markdown, md({ replace: true }));
    issue = await readIssue();
    expect(issue.sections[0]!.papers.map((p) => [p.id, p.number, p.numberAsWritten])).toEqual([
      [ids[0], '1.1', '1.3'],
      [ids[1], '1.2', '1.4'],
    ]);
    // And /papers/1.4.md still leads to the paper written 1.4 (now 1.2).
    const moved = await app.fetch('http://localhost/issues/2025-05-05/papers/1.4.md', { redirect: 'manual' });
    expect(moved.headers.get('location')).toBe('http://localhost/issues/2025-05-05/papers/1.2.md');
  });
});

// ---------------------------------------------------------------------------
// 3. Inline Markdown in one-line fields
// ---------------------------------------------------------------------------

describe('one-line fields of a Markdown import are read as inline Markdown', () => {
  it('stores plain text, exports it without stray escapes, and feeds show no asterisks', async () => {
    const text = markdownIssue(
      [
        {
          name: 'LLM `Reasoning`',
          papers: [{ title: '**RM-R1**: Reward Modeling as [Reasoning](https://arxiv.org/abs/2505.02387)' }],
        },
      ],
      {
        subtitle: '*Stay Updated with Recent Large Language Models Research*',
        toc: ['LLM _Reasoning_', 'AT&amp;T &#35;1'],
      },
    );
    await importIssueText(tdb.db, text, md({ publish: true }));
    const issue = await readIssue();
    expect(issue.subtitle).toBe('Stay Updated with Recent Large Language Models Research');
    expect(issue.sections[0]!.category.name).toBe('LLM Reasoning');
    expect(issue.sections[0]!.papers[0]!.title).toBe('RM-R1: Reward Modeling as Reasoning');
    expect(issue.markdown).toContain('\nStay Updated with Recent Large Language Models Research\n');
    const [row] = await selectRows<{ toc: string[] }>(tdb.db, sql`SELECT table_of_contents AS toc FROM issues`);
    expect(row!.toc).toEqual(['LLM Reasoning', 'AT&T #1']);
    // Exported as plain text, escaped: no emphasis markers, no entities.
    expect(issue.markdown).toContain('\n- LLM Reasoning\n- AT\\&T \\#1\n');
    expect(issue.markdown).toContain('\n## 1. LLM Reasoning\n');
    const feed = await (await app.fetch('http://localhost/feeds/issues.json')).text();
    expect(feed).toContain('<em>Stay Updated with Recent Large Language Models Research</em>');
    expect(feed).not.toContain('<em>*');
  });

  it('round-trips literal *, _, backticks, [, < and & through the database exactly', async () => {
    const literal = {
      title: 'Week *1* of 2025: `a_b` [draft] <think> & AT&amp;T \\o/',
      subtitle: '- *not* a list, 2. not numbered',
      category: 'Tools_and <Agents> *',
      toc: '1. [Tools] & `x`',
      aside: '## not a heading *',
      paper: '3.10. `code` *x* _y_ [z](w) <b> \\ &#35;',
    };
    const doc = parseIssue(markdownIssue([{ name: 'x', papers: [{ title: 'x' }] }]), { format: 'markdown' }).document;
    const { renderMarkdown } = await import('../src/newsletter/markdown.js');
    const exported = renderMarkdown({
      ...doc,
      title: literal.title,
      subtitle: literal.subtitle,
      tableOfContents: [literal.toc, literal.category, literal.aside],
      asides: [{ title: literal.aside, body: 'Body.' }],
      sections: [
        {
          number: 1,
          categoryName: literal.category,
          papers: [{ number: '1.1', title: literal.paper, summary: 'S.', url: null, arxivId: null }],
        },
      ],
    });
    await importIssueText(tdb.db, exported, md({ publish: true }));
    const issue = await readIssue();
    expect(issue.title).toBe(literal.title);
    expect(issue.subtitle).toBe(literal.subtitle);
    expect(issue.asides[0]!.title).toBe(literal.aside);
    expect(issue.sections[0]!.category.name).toBe(literal.category);
    expect(issue.sections[0]!.papers[0]!.title).toBe(literal.paper);
    expect(issue.markdown).toBe(exported);
  });
});

// ---------------------------------------------------------------------------
// 4. The table of contents as written
// ---------------------------------------------------------------------------

describe('the table of contents is stored and exported as written', () => {
  const text = [
    'Important LLM Papers for the Week From 05/05 to 11/05 2025',
    'Stay Updated',
    'Table of Contents:',
    'LLM Reasoning',
    'A Section That Was Cut',
    'LLM Evaluation',
    '1. LLM Reasoning',
    '1.1. A Reasoning Paper',
    'Its summary.',
    '2. LLM Evaluation',
    '2.1. An Evaluation Paper',
    'Its summary.',
  ].join('\n');

  it('keeps an entry that matches no section, and export → import gives the same structure and warning', async () => {
    const first = await importIssueText(tdb.db, text, { format: 'text', publish: true });
    const warning = first.warnings.find((w) => /matches no section/.test(w.message));
    expect(warning?.line).toBe(5);
    const [stored] = await selectRows<{ toc: string[] }>(tdb.db, sql`SELECT table_of_contents AS toc FROM issues`);
    expect(stored!.toc).toEqual(['LLM Reasoning', 'A Section That Was Cut', 'LLM Evaluation']);
    const before = await readIssue();
    expect(before.markdown).toContain(
      '## Table of Contents\n\n- LLM Reasoning\n- A Section That Was Cut\n- LLM Evaluation\n',
    );

    const again = await importIssueText(tdb.db, before.markdown, md({ replace: true }));
    expect(again.document.tableOfContents).toEqual(first.document.tableOfContents);
    expect(again.document.sections).toEqual(first.document.sections);
    expect(again.document.asides).toEqual(first.document.asides);
    expect(again.warnings.map((w) => w.message)).toContain(warning!.message);
    const after = await readIssue();
    expect(after.markdown).toBe(before.markdown);
    expect({ ...after, version: 0 }).toEqual({ ...before, version: 0 });
  });

  it('an edition made through the API derives it; adding a section to an imported one leaves the stored one', async () => {
    const made = await gql(
      app,
      graphql(
        `mutation MakeIssue { createIssue(input: { slug: "api-made", title: "Made", weekStart: "2025-05-12" }) { ... on CreateIssuePayload { issue { id } } } }`,
      ),
      {},
      editor,
    );
    const createIssue = made.body.data!.createIssue;
    if (!('issue' in createIssue)) throw new Error('createIssue refused');
    const issueId = createIssue.issue.id;
    await gql(
      app,
      graphql(
        `mutation MakeCategory { createCategory(input: { name: "LLM Safety", slug: "llm-safety" }) { __typename } }`,
      ),
      {},
      editor,
    );
    await gql(
      app,
      graphql(
        `mutation AddSafe($i: ID!) { addPaper(input: { issueId: $i, category: "llm-safety", title: "Safe" }) { __typename } }`,
      ),
      { i: issueId },
      editor,
    );
    expect((await readIssue('api-made')).markdown).toContain('## Table of Contents\n\n- LLM Safety\n');

    await importIssueText(tdb.db, text, { format: 'text' });
    const imported = await readIssue();
    const added = await gql(
      app,
      graphql(
        `mutation AddAdded($i: ID!) { addPaper(input: { issueId: $i, category: "llm-safety", title: "Added" }) { __typename } }`,
      ),
      { i: imported.id },
      editor,
    );
    expect(added.body.data!.addPaper.__typename).toBe('AddPaperPayload');
    const markdown = (await readIssue()).markdown;
    expect(markdown).toContain(
      '## Table of Contents\n\n- LLM Reasoning\n- A Section That Was Cut\n- LLM Evaluation\n\n## 1.',
    );
    expect(markdown).toContain('## 3. LLM Safety');
  });
});

// ---------------------------------------------------------------------------
// 5. Import warnings stored with the edition
// ---------------------------------------------------------------------------

describe('import warnings are stored with the edition', () => {
  const withGap = markdownIssue([
    {
      name: 'LLM Reasoning',
      papers: [
        { n: '1.1', title: 'A' },
        { n: '1.3', title: 'B' },
      ],
    },
  ]);
  const clean = markdownIssue([{ name: 'LLM Reasoning', papers: [{ title: 'A' }, { title: 'B' }] }]);
  const WARNINGS = graphql(`query Warnings { issue(slug: "2025-05-05") { importWarnings { line message } } }`);

  it('every import replaces them; editors read them as Issue.importWarnings', async () => {
    const r = await importViaGraphQL({ text: withGap, format: 'MARKDOWN', publish: true });
    expect(r.warnings).toHaveLength(1);
    expect(r.issue.importWarnings).toEqual(r.warnings);
    expect((await gql(app, WARNINGS, {}, editor)).body.data!.issue!.importWarnings).toEqual(r.warnings);

    const replaced = await importIssueText(tdb.db, clean, md({ replace: true }));
    expect(replaced.warnings).toEqual([]);
    expect((await gql(app, WARNINGS, {}, editor)).body.data!.issue!.importWarnings).toEqual([]);
    await importIssueText(tdb.db, withGap, md({ replace: true }));
    const [row] = await selectRows<{ w: unknown }>(tdb.db, sql`SELECT import_warnings AS w FROM issues`);
    expect(row!.w).toEqual(r.warnings);
  });

  it('anonymous readers get FORBIDDEN for them (the rest of the schema stays readable)', async () => {
    await importIssueText(tdb.db, withGap, md({ publish: true }));
    const res = await gql(app, WARNINGS);
    expect(errorCode(res)).toBe('FORBIDDEN');
    // only the field is withheld: the edition itself is there
    expect(res.body.data!.issue!.importWarnings).toBeNull();
    expect(res.body.errors![0]!.path).toEqual(['issue', 'importWarnings']);
    const plain = await gql(app, graphql(`query Title { issue(slug: "2025-05-05") { title } }`));
    expect(plain.body.errors).toBeUndefined();
    expect(plain.body.data!.issue!.title).toMatch(/Important/);
  });
});
