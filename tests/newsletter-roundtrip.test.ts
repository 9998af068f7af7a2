import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeBodyLine,
  escapeInline,
  inlineMarkdownToText,
  renderMarkdown,
  unescapeBodyLine,
  unescapeInline,
} from '../src/newsletter/markdown.js';
import { parseIssue } from '../src/newsletter/parse/index.js';
import type { IssueDocument, IssuePaper, IssueSection } from '../src/newsletter/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL_ISSUE = path.resolve(repoRoot, '..', 'shared', 'newsletter', 'important-llm-papers-2025-05-05.txt');
const FIXTURES = path.join(repoRoot, 'tests', 'fixtures', 'newsletter');
const NUM_RUNS = Number(process.env.NEWSLETTER_FC_RUNS ?? 200);
/** Records with an ordinary prototype, like the parser's output (toStrictEqual compares prototypes). */
const PLAIN = { noNullPrototype: true } as const;

function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** Markdown export → import gives the same document, and exporting again gives the same bytes. */
function expectMarkdownRoundTrip(doc: IssueDocument): string {
  const markdown = renderMarkdown(doc);
  const again = parseIssue(markdown, { format: 'markdown' }).document;
  expect(again).toStrictEqual(doc);
  expect(renderMarkdown(again)).toBe(markdown);
  const fromBytes = parseIssue(new TextEncoder().encode(markdown), { format: 'markdown' }).document;
  expect(fromBytes).toStrictEqual(doc);
  return markdown;
}

// ---------------------------------------------------------------------------
// Arbitraries: awkward text
// ---------------------------------------------------------------------------

const AWKWARD = [
  '*',
  '_',
  '#',
  '`',
  '[',
  ']',
  '<',
  '>',
  '|',
  '\\',
  '&',
  '&amp;',
  '&#35;',
  '!',
  '~',
  '-',
  '+',
  '=',
  '.',
  ')',
  '(',
  ':',
  '"',
  "'",
  '“',
  '”',
  '’',
  '—',
  '–',
  '…',
  '- ',
  '* ',
  '+ ',
  '1. ',
  '2) ',
  '3.10',
  '10.',
  '# ',
  '## ',
  '### 2.1. ',
  '---',
  '***',
  '___',
  '===',
  '<!--',
  '-->',
  '<!-- url: x -->',
  '<!-- week: ?..? -->',
  '\\#',
  '\\\\',
  '\\-',
  '    ',
  '\t',
  ' ',
  '😀',
  '👩‍👩‍👧',
  'e\u0301',
  `a${'\u0301'.repeat(5)}`,
  'İ',
  'ß',
  '\u200a',
  '\u00a0',
  '\u2028',
  '\ufeff',
  'Table of Contents',
  '?',
  'https://example.org/x',
  'mentoring',
  'Are you',
  '05/05 to 11/05',
  '2025',
  '\\',
];
const WORDS = ['a', 'b', 'LLM', 'model', 'Reasoning', 'x', 'Z', '0', '9', 'week'];

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...AWKWARD) },
  { weight: 3, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }) },
);
/** Any text without NUL and line breaks (those are not content). */
const rawText = fc.array(piece, { maxLength: 10 }).map((pieces) => pieces.join('').replace(/[\0\r\n]/g, ' '));

/** One-line fields are trimmed and non-empty. */
const oneLine = rawText.map((text) => text.trim() || 'x');
/** Body lines are kept verbatim but are never blank (blank lines separate paragraphs). */
const bodyLine = rawText.map((text) => (/^[ \t]*$/.test(text) ? `x${text}` : text));
const paragraph = fc.array(bodyLine, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n'));
const body = fc.array(paragraph, { maxLength: 4 }).map((paragraphs) => paragraphs.join('\n\n'));

const isoDate = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 10));
const arxivId = fc
  .tuple(
    fc.integer({ min: 1, max: 2612 }),
    fc.integer({ min: 0, max: 99_999 }),
    fc.option(fc.integer({ min: 1, max: 9 }), { nil: null }),
  )
  .map(
    ([yymm, id, version]) =>
      `${String(yymm).padStart(4, '0')}.${String(id).padStart(5, '0')}${version ? `v${version}` : ''}`,
  );

const paperContent = fc.record(
  {
    title: oneLine,
    summary: body,
    url: fc.option(fc.webUrl({ withQueryParameters: true, withFragments: true }), { nil: null }),
    arxivId: fc.option(arxivId, { nil: null }),
    /** Now and then a number the text wrote otherwise (a numbering gap). */
    written: fc.option(
      fc.tuple(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 1, max: 999 })).map(([s, p]) => `${s}.${p}`),
      { nil: null, freq: 4 },
    ),
  },
  PLAIN,
);
const papers = fc.oneof(
  { weight: 4, arbitrary: fc.array(paperContent, { maxLength: 3 }) },
  // Enough papers to reach numbers like 3.10 and 3.11.
  { weight: 1, arbitrary: fc.array(paperContent, { minLength: 10, maxLength: 12 }) },
);
const sections = fc
  .array(fc.record({ categoryName: oneLine, papers }, PLAIN), { minLength: 1, maxLength: 4 })
  .map((list): IssueSection[] =>
    list.map((section, i) => ({
      number: i + 1,
      categoryName: section.categoryName,
      papers: section.papers.map(({ written, ...paper }, j): IssuePaper => {
        const number = `${i + 1}.${j + 1}`;
        // (present only when it differs, as the parser gives it)
        return { number, ...(written && written !== number ? { numberAsWritten: written } : {}), ...paper };
      }),
    })),
  );

const issueDocument: fc.Arbitrary<IssueDocument> = fc.record(
  {
    title: oneLine,
    subtitle: fc.oneof({ weight: 5, arbitrary: oneLine }, { weight: 1, arbitrary: fc.constant('') }),
    intro: body,
    tableOfContents: fc.array(oneLine, { maxLength: 5 }),
    asides: fc.array(fc.record({ title: oneLine, body }, PLAIN), { maxLength: 2 }),
    weekStart: fc.option(isoDate, { nil: null }),
    weekEnd: fc.option(isoDate, { nil: null }),
    sections,
    outro: fc.oneof(body, fc.constant('')),
  },
  PLAIN,
);

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

describe('escaping helpers', () => {
  it('unescapeInline inverts escapeInline, at line start or not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.boolean(), (text, atLineStart) => {
        expect(unescapeInline(escapeInline(text, atLineStart))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('inlineMarkdownToText inverts escapeInline on one-line fields (trimmed, no line breaks)', () => {
    const field = fc.oneof(
      oneLine,
      fc.string({ unit: 'binary' }).map((text) => text.replace(/[\0\r\n]/g, ' ').trim() || 'x'),
    );
    fc.assert(
      fc.property(field, fc.boolean(), (text, atLineStart) => {
        expect(inlineMarkdownToText(escapeInline(text, atLineStart))).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('inlineMarkdownToText reads emphasis, code spans, links, escapes and character references', () => {
    expect(inlineMarkdownToText('*Stay Updated with Recent Large Language Models Research*')).toBe(
      'Stay Updated with Recent Large Language Models Research',
    );
    expect(inlineMarkdownToText('**a** __b__ _c_ ~~d~~ `*e*` [f](https://x.org) ![g](i.png) <https://h.org>')).toBe(
      'a b c d *e* f g https://h.org',
    );
    expect(inlineMarkdownToText('\\*x\\* AT&amp;T &#35;1 &#x41; &copy; &nosuch; &#0; & x')).toBe(
      '*x* AT&T #1 A © &nosuch; \ufffd & x',
    );
    expect(inlineMarkdownToText('a <span>b</span> snake_case_name https://x.org/a_b_ 2*3*4')).toBe(
      'a <span>b</span> snake_case_name https://x.org/a_b_ 234',
    );
    // Too long, or too many delimiters, to read as Markdown quickly: only the backslash escapes are removed.
    const long = `*${'a'.repeat(1000)}* \\*`;
    expect(inlineMarkdownToText(long)).toBe(`*${'a'.repeat(1000)}* *`);
    expect(inlineMarkdownToText(`${'*a* '.repeat(32)}\\*`)).toBe(`${'a '.repeat(32)}*`);
    expect(inlineMarkdownToText(`${'*a* '.repeat(33)}\\*`)).toBe(`${'*a* '.repeat(33)}*`);
  });

  it('unescapeBodyLine inverts escapeBodyLine, and escaped lines never look structural', () => {
    const line = fc.oneof(fc.string({ unit: 'binary' }), rawText);
    fc.assert(
      fc.property(line, (text) => {
        const escaped = escapeBodyLine(text);
        expect(unescapeBodyLine(escaped)).toBe(text);
        expect(escaped).not.toMatch(/^(#|---|<!--)/);
      }),
      { numRuns: 1000 },
    );
  });

  it('escapes what Markdown would otherwise interpret', () => {
    expect(escapeInline('a*b_c [d](e) <f> #g `h` |i| ~j~ AT&T', false)).toBe(
      'a\\*b\\_c \\[d\\](e) \\<f\\> \\#g \\`h\\` \\|i\\| \\~j\\~ AT\\&T',
    );
    expect(escapeInline('Training & Fine-Tuning', true)).toBe('Training & Fine-Tuning');
    expect(escapeInline('2. Not a section', true)).toBe('2\\. Not a section');
    expect(escapeInline('- not a bullet', true)).toBe('\\- not a bullet');
    expect(escapeInline('3.10 stays', false)).toBe('3.10 stays');
    expect(escapeBodyLine('## not a heading')).toBe('\\## not a heading');
    expect(escapeBodyLine('\\# already escaped')).toBe('\\\\# already escaped');
    expect(escapeBodyLine('- a bullet stays')).toBe('- a bullet stays');
  });
});

describe('Markdown round trip (fast-check)', () => {
  it(`document → Markdown → document is exact and Markdown is stable (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(issueDocument, (doc) => {
        expectMarkdownRoundTrip(doc);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('round-trips hand-picked awkward documents', () => {
    const doc: IssueDocument = {
      title: '# Not *bold* [link](x) <b> 3.10 | \\',
      subtitle: '- looks like a list',
      intro: '## looks like a heading\n---\n<!-- week: 2020-01-01..2020-01-07 -->\n\n1. ordered\n- bullet',
      tableOfContents: ['1. Numbered entry', '+ plus', 'Table of Contents', '= setext'],
      asides: [
        { title: 'Table of Contents', body: '' },
        { title: '2. Looks numbered', body: '\\## backslashes \\\\\n    indented code' },
      ],
      weekStart: null,
      weekEnd: '2025-01-01',
      sections: [
        {
          number: 1,
          categoryName: '3.10 Things',
          papers: [
            { number: '1.1', title: '3.10. Starts like a number', summary: '', url: null, arxivId: '2505.03335v2' },
            {
              number: '1.2',
              title: 'e\u0301 😀 — “quotes”',
              summary: '<!-- url: https://x -->\ntext',
              url: 'https://x.org/a--b?q=1#f',
              arxivId: null,
            },
          ],
        },
        { number: 2, categoryName: 'Empty Section', papers: [] },
      ],
      outro: '---\n### not a paper\n\nMentoring: https://example.org/m',
    };
    const markdown = expectMarkdownRoundTrip(doc);
    expect(markdown).toContain('<!-- week: ?..2025-01-01 -->');
    expect(markdown).toContain('\n## 2\\. Looks numbered\n');
    expect(markdown).toContain('\n---\n\n\\---\n\\### not a paper\n');
    expect(
      expectMarkdownRoundTrip({ ...doc, subtitle: '', intro: '', outro: '', tableOfContents: [], asides: [] }),
    ).toContain('<!-- subtitle: none -->');
  });

  it('round-trips numbers as written and one-line fields full of Markdown characters', () => {
    const doc: IssueDocument = {
      title: '*Week* _1_ `code` [x](y) <b> & AT&amp;T \\',
      subtitle: '*Stay Updated with Recent Large Language Models Research*',
      intro: '',
      tableOfContents: ['**Bold** ~~entry~~', '[Link](https://x.org) &copy;', '\\*escaped\\*'],
      asides: [{ title: '`Aside` <think>', body: 'Body.' }],
      weekStart: '2025-05-05',
      weekEnd: '2025-05-11',
      sections: [
        {
          number: 1,
          categoryName: 'LLM _Reasoning_ & `Tools`',
          papers: [
            { number: '1.1', title: 'https://x.org/a_b_ *not* [a link]', summary: 'S.', url: null, arxivId: null },
            { number: '1.2', numberAsWritten: '1.3', title: 'Gap', summary: 'S.', url: null, arxivId: null },
            {
              number: '1.3',
              numberAsWritten: '2.1',
              title: 'Elsewhere',
              summary: '',
              url: null,
              arxivId: '2505.03335',
            },
          ],
        },
      ],
      outro: '',
    };
    const markdown = expectMarkdownRoundTrip(doc);
    expect(markdown).toContain('\n\\*Stay Updated with Recent Large Language Models Research\\*\n');
    expect(markdown).toContain('### 1.2. Gap\n<!-- written: 1.3 -->\n');
    expect(markdown).toContain('### 1.3. Elsewhere\n<!-- arxiv: 2505.03335 -->\n<!-- written: 2.1 -->\n');
  });

  it('normalises only the documented fields (absent url → null, whitespace in url percent-encoded)', () => {
    const base = parseIssue(fixture('edition.md'), { format: 'markdown' }).document;
    const paper = base.sections[0]?.papers[0];
    if (!paper) throw new Error('fixture has no paper');
    const odd: IssueDocument = {
      ...base,
      sections: [
        {
          ...(base.sections[0] as IssueSection),
          papers: [{ number: '1.1', title: 'T', summary: 'S', url: 'https://x.org/a b>c' }],
        },
      ],
    };
    const again = parseIssue(renderMarkdown(odd), { format: 'markdown' }).document;
    expect(again.sections[0]?.papers[0]).toStrictEqual({
      number: '1.1',
      title: 'T',
      summary: 'S',
      url: 'https://x.org/a%20b%3Ec',
      arxivId: null,
    });
  });
});

// ---------------------------------------------------------------------------
// Plain text → Markdown → document
// ---------------------------------------------------------------------------

/** Text → document → Markdown → same document → same Markdown. */
function expectTextRoundTrip(text: string, options: { weekStart?: string; year?: number } = {}): IssueDocument {
  const doc = parseIssue(text, { format: 'text', ...options }).document;
  expectMarkdownRoundTrip(doc);
  return doc;
}

describe('plain text → Markdown round trip', () => {
  it.skipIf(!existsSync(REAL_ISSUE))('the real edition (needs ../shared/newsletter)', () => {
    const text = readFileSync(REAL_ISSUE, 'utf8');
    const doc = expectTextRoundTrip(text, { weekStart: '2025-05-05' });
    expect(doc.sections.flatMap((s) => s.papers)).toHaveLength(15);
    const markdown = renderMarkdown(doc);
    expect(markdown).toContain('<!-- week: 2025-05-05..2025-05-11 -->');
    expect(markdown).toContain('\n## My New E-Book: LLM Roadmap from Beginner to Advanced Level\n');
    expect(markdown).toContain('\n### 2.3. RM-R1: Reward Modeling as Reasoning\n');
    expect(markdown).toContain('\n---\n\nAre you looking');
  });

  it.each([
    'clean-edition.txt',
    'last-paper-links.txt',
    'numbering-problems.txt',
    'toc-mismatch.txt',
    'stray-lines.txt',
    'year-wrap.txt',
  ])('fixture %s', (name) => {
    expectTextRoundTrip(fixture(name));
  });

  it('Markdown fixtures are stable after one import', () => {
    for (const name of ['edition.md', 'malformed.md']) {
      const doc = parseIssue(fixture(name), { format: 'markdown' }).document;
      expectMarkdownRoundTrip(doc);
    }
    // The hand-written edition is already in export form.
    expect(renderMarkdown(parseIssue(fixture('edition.md'), { format: 'markdown' }).document)).toBe(
      fixture('edition.md'),
    );
  });

  /** Generated editions in the published plain-text layout (no call-to-action words: no outro). */
  const textPiece = fc.oneof(
    fc.constantFrom(...AWKWARD.filter((p) => !/mentor|you|https?:/i.test(p))),
    fc.constantFrom(...WORDS),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }),
  );
  const textLine = fc.array(textPiece, { minLength: 1, maxLength: 8 }).map((pieces) =>
    `Line ${pieces
      .join('')
      .replace(/[\0\r\n]/g, ' ')
      .trim()}`.trim(),
  );
  const textIssue = fc.record({
    intro: fc.array(textLine, { maxLength: 3 }),
    sections: fc.array(
      fc.record({
        name: fc.constantFrom('Reasoning', 'Agents', 'Data & Benchmarks', 'Vision–Language', 'Safety'),
        papers: fc.array(fc.record({ title: textLine, summary: fc.array(textLine, { minLength: 1, maxLength: 4 }) }), {
          minLength: 1,
          maxLength: 11,
        }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  });

  it(`generated plain-text editions parse, export and re-import identically (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(textIssue, (edition) => {
        const names = edition.sections.map((s, i) => `${s.name} ${i + 1}`);
        const lines = [
          'Important LLM Papers for the Week From 05/05 to 11/05',
          'A Generated Subtitle',
          ...edition.intro,
          'Table of Contents:',
          ...names,
          ...edition.sections.flatMap((section, i) => [
            `${i + 1}. ${names[i]}`,
            ...section.papers.flatMap((paper, j) => [`${i + 1}.${j + 1}. ${paper.title}`, ...paper.summary]),
          ]),
        ];
        const doc = expectTextRoundTrip(lines.join('\n'), { year: 2025 });
        expect(doc.sections.map((s) => s.papers.length)).toEqual(edition.sections.map((s) => s.papers.length));
        expect(doc.sections.flatMap((s) => s.papers.map((p) => p.summary))).toEqual(
          edition.sections.flatMap((s) => s.papers.map((p) => p.summary.join('\n\n'))),
        );
        expect(doc.weekStart).toBe('2025-05-05');
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
