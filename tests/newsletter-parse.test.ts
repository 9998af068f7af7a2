import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REAL_TITLES } from './helpers/real-edition.js';
import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, isIsoDate, parseIsoDate } from '../src/newsletter/dates.js';
import { IssueParseError, parseIssue } from '../src/newsletter/parse/index.js';
import { slugify } from '../src/newsletter/slug.js';
import type { IssueDocument, ParseOptions, ParseResult, ParseWarning } from '../src/newsletter/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL_ISSUE = path.resolve(repoRoot, '..', 'shared', 'newsletter', 'important-llm-papers-2025-05-05.txt');
const FIXTURES = path.join(repoRoot, 'tests', 'fixtures', 'newsletter');

function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

function parseText(input: string | Uint8Array, options: Partial<ParseOptions> = {}): ParseResult {
  return parseIssue(input, { format: 'text', ...options });
}

function parseMd(input: string, options: Partial<ParseOptions> = {}): ParseResult {
  return parseIssue(input, { format: 'markdown', ...options });
}

function paragraphs(markdown: string): string[] {
  return markdown === '' ? [] : markdown.split('\n\n');
}

function allPapers(doc: IssueDocument) {
  return doc.sections.flatMap((s) => s.papers);
}

function warningsMatching(warnings: ParseWarning[], pattern: RegExp): ParseWarning[] {
  return warnings.filter((w) => pattern.test(w.message));
}

function expectWarningAt(warnings: ParseWarning[], line: number, pattern: RegExp): void {
  const hits = warnings.filter((w) => w.line === line && pattern.test(w.message));
  expect(hits, `no warning ${pattern} on line ${line}; got ${JSON.stringify(warnings, null, 1)}`).not.toHaveLength(0);
}

function thrown(fn: () => unknown): IssueParseError {
  try {
    fn();
  } catch (error) {
    if (error instanceof IssueParseError) return error;
    throw error;
  }
  throw new Error('expected an IssueParseError');
}

/** A small valid edition built in the test, for edge cases that need odd bytes. */
function miniIssue(lastSummaryLine = 'One more line.'): string {
  return [
    'Important LLM Papers for the Week From 03/02 to 09/02',
    'Tiny Subtitle',
    'Papers from the First Week of February 2025.',
    'Table of Contents:',
    'Only Section',
    '1. Only Section',
    '1.1. The Only Paper',
    'First line of the summary.',
    lastSummaryLine,
  ].join('\n');
}

// ---------------------------------------------------------------------------
// The real edition (read-only, outside the repository)
// ---------------------------------------------------------------------------

describe.skipIf(!existsSync(REAL_ISSUE))('real edition 2025-05-05 (needs ../shared/newsletter)', () => {
  const text = existsSync(REAL_ISSUE) ? readFileSync(REAL_ISSUE, 'utf8') : '';
  const fileLines = text.split('\n');
  const { document: doc, warnings } = existsSync(REAL_ISSUE) ? parseText(text) : { document: null, warnings: [] };
  const edition = doc as IssueDocument;

  it('has the five sections in order', () => {
    expect(edition.sections.map((s) => [s.number, s.categoryName])).toEqual([
      [1, 'LLM Progress & Technical Reports'],
      [2, 'LLM Reasoning'],
      [3, 'LLM Training & Fine-Tuning'],
      [4, 'Vision Language Models'],
      [5, 'LLM Evaluation'],
    ]);
  });

  it('has the 15 papers with their numbers and exact titles', () => {
    expect(allPapers(edition).map((p) => [p.number, p.title])).toEqual(REAL_TITLES);
    // The titles are also exactly the heading lines of the file.
    const headingTitles = fileLines.filter((l) => /^\d+\.\d+\. /.test(l)).map((l) => l.replace(/^\d+\.\d+\. /, ''));
    expect(allPapers(edition).map((p) => p.title)).toEqual(headingTitles);
  });

  it('puts every summary line into the right paper (counts, first and last line)', () => {
    const headingIndexes = fileLines.flatMap((l, i) => (/^\d+\.(\d+\.)? /.test(l) ? [i] : []));
    const outroIndex = fileLines.findIndex((l) => l.startsWith('Are you looking'));
    const papers = allPapers(edition);
    const paperHeadings = headingIndexes.filter((i) => /^\d+\.\d+\. /.test(fileLines[i] ?? ''));
    expect(paperHeadings).toHaveLength(15);
    paperHeadings.forEach((headingIndex, n) => {
      const next = headingIndexes.find((i) => i > headingIndex) ?? outroIndex;
      const expected = fileLines.slice(headingIndex + 1, next);
      const summary = paragraphs(papers[n]?.summary ?? '');
      expect(summary, `paper ${papers[n]?.number}`).toEqual(expected);
    });
  });

  it('keeps the intro to its three paragraphs and the e-book promo as an aside', () => {
    expect(edition.title).toBe('Important LLM Papers for the Week From 05/04 to 11/05');
    expect(edition.subtitle).toBe('Stay Updated with Recent Large Language Models Research');
    const intro = paragraphs(edition.intro);
    expect(intro).toEqual(fileLines.slice(2, 5));
    expect(intro.at(-1)).not.toMatch(/e-?book/i);
    expect(edition.tableOfContents).toEqual(fileLines.slice(6, 12));
    expect(edition.asides).toHaveLength(1);
    expect(edition.asides[0]?.title).toBe('My New E-Book: LLM Roadmap from Beginner to Advanced Level');
    expect(edition.asides[0]?.body).toBe(fileLines[12]);
    for (const paper of allPapers(edition)) expect(paper.summary).not.toMatch(/e-?book/i);
  });

  it('keeps the mentoring lines as the outro, not in the last summary', () => {
    expect(paragraphs(edition.outro)).toEqual(fileLines.slice(-3));
    expect(edition.outro).toMatch(/^Are you looking/);
    expect(edition.outro).toContain('Mentoring sessions: https://');
    expect(edition.outro).toContain('Long-term mentoring: https://');
    const last = allPapers(edition).at(-1);
    expect(last?.summary).not.toMatch(/mentoring|lnkd\.in/);
    expect(last?.summary.endsWith(fileLines.at(-4) ?? '?')).toBe(true);
  });

  it('warns about the inconsistent week and keeps the parsed dates', () => {
    expect(edition.weekStart).toBe('2025-04-05');
    expect(edition.weekEnd).toBe('2025-05-11');
    expect(warningsMatching(warnings, /spans 37 days/)).toHaveLength(1);
    expectWarningAt(warnings, 4, /First Week of May 2025/);
    // Nothing else is doubtful in this edition.
    expect(warnings.every((w) => /week/i.test(w.message))).toBe(true);
  });

  it('uses options.weekStart as the editor override', () => {
    const result = parseText(text, { weekStart: '2025-05-05' });
    expect([result.document.weekStart, result.document.weekEnd]).toEqual(['2025-05-05', '2025-05-11']);
    // The title is still reported as inconsistent.
    expect(warningsMatching(result.warnings, /First Week of May/)).toHaveLength(1);
  });

  it('parses the same from bytes, CRLF and a BOM', () => {
    const bytes = new TextEncoder().encode(`\uFEFF${text.replace(/\n/g, '\r\n')}`);
    expect(parseText(bytes).document).toEqual(edition);
  });
});

// ---------------------------------------------------------------------------
// Plain-text fixtures
// ---------------------------------------------------------------------------

describe('text format: a clean edition', () => {
  const { document: doc, warnings } = parseText(fixture('clean-edition.txt'));

  it('has no warnings', () => {
    expect(warnings).toEqual([]);
  });

  it('reads title, subtitle, intro and table of contents', () => {
    expect(doc.title).toBe('Important LLM Papers for the Week From 10/03 to 16/03');
    expect(doc.subtitle).toBe('A Compact Digest of Fresh Language Model Research');
    expect(paragraphs(doc.intro)).toHaveLength(3);
    expect(doc.tableOfContents).toEqual([
      'Efficient Inference',
      'Alignment & Safety',
      'Agents',
      'My Weekend Course: Building Small Language Models',
    ]);
  });

  it('reads an aside whose title is repeated after the table of contents', () => {
    expect(doc.asides).toEqual([
      {
        title: 'My Weekend Course: Building Small Language Models',
        body: 'I run a hands-on weekend course where we build a tiny transformer from scratch.\n\nSeats are limited — sign-ups open every month.',
      },
    ]);
  });

  it('reads sections, papers and summary lines (bullet lines stay paragraphs)', () => {
    expect(doc.sections.map((s) => s.categoryName)).toEqual(['Efficient Inference', 'Alignment & Safety', 'Agents']);
    expect(allPapers(doc).map((p) => p.number)).toEqual(['1.1', '1.2', '2.1', '2.2', '3.1']);
    const first = paragraphs(allPapers(doc)[0]?.summary ?? '');
    expect(first).toHaveLength(7);
    expect(first[2]).toBe('The gate is trained with three signals:');
    expect(first[3]).toBe('Reconstruction error of the hidden state');
    expect(allPapers(doc)[3]?.title).toBe('Reward Models Forget “Why” Faster Than “What”');
  });

  it('extracts arXiv ids and arXiv URLs but keeps the lines in the summary', () => {
    const [, caching, refusals, reward] = allPapers(doc);
    expect(caching).toMatchObject({ arxivId: '2503.01234', url: null });
    expect(caching?.summary).toContain('arXiv: 2503.01234');
    expect(refusals).toMatchObject({ arxivId: '2503.04321', url: 'https://arxiv.org/abs/2503.04321v2' });
    expect(refusals?.summary).toContain('Paper: https://arxiv.org/abs/2503.04321v2');
    expect(reward).toMatchObject({ arxivId: null, url: null });
  });

  it('detects the outro after the last paper', () => {
    expect(paragraphs(doc.outro)).toEqual([
      'Did you enjoy this issue? Subscribe to get the next one in your inbox:',
      'Newsletter: https://example.org/subscribe',
      'Office hours: https://example.org/office-hours',
    ]);
    expect(paragraphs(allPapers(doc).at(-1)?.summary ?? '')).toHaveLength(2);
  });

  it('takes the year from "Second Week of March 2025"', () => {
    expect([doc.weekStart, doc.weekEnd]).toEqual(['2025-03-10', '2025-03-16']);
  });

  it('accepts CRLF, a BOM, tabs, smart quotes and blank lines', () => {
    const messy = `\uFEFF${fixture('clean-edition.txt')
      .replace(/^(\d+\.\d+\.) /gm, '$1\t')
      .replace(/\n/g, '\t \r\n\r\n')}`;
    const result = parseText(messy);
    expect(result.document).toEqual(doc);
    expect(result.warnings).toEqual([]);
  });
});

describe('text format: the last paper keeps its own links', () => {
  const { document: doc, warnings } = parseText(fixture('last-paper-links.txt'));

  it('has an empty outro and every link line in the summary', () => {
    expect(doc.outro).toBe('');
    const last = paragraphs(allPapers(doc).at(-1)?.summary ?? '');
    expect(last).toEqual([
      'The tool records every intermediate prompt and lets you replay a chain step by step.',
      'Code: https://github.com/example/chain-debugger',
      'It also highlights the step where the output first diverged from the expected one.',
      'Are traces stored? Only when you enable the recorder.',
      'Project page: https://example.org/chain-debugger',
      'Demo: https://example.org/chain-debugger/demo',
    ]);
    expect(warnings).toEqual([]);
  });

  it('gets the year from the subtitle', () => {
    expect([doc.weekStart, doc.weekEnd]).toEqual(['2025-06-02', '2025-06-08']);
  });

  it('treats an empty outro and a mentoring outro deterministically', () => {
    const withOutro = `${fixture('last-paper-links.txt').trimEnd()}\nFollow me for more weekly summaries!\nBlog: https://example.org/blog\n`;
    const result = parseText(withOutro).document;
    expect(paragraphs(result.outro)).toEqual([
      'Follow me for more weekly summaries!',
      'Blog: https://example.org/blog',
    ]);
    expect(allPapers(result).at(-1)?.summary).toBe(allPapers(doc).at(-1)?.summary);
  });
});

describe('text format: numbering', () => {
  const { document: doc, warnings } = parseText(fixture('numbering-problems.txt'));

  it('reports gaps, duplicates and papers outside their section with their lines', () => {
    expectWarningAt(warnings, 12, /jump from 1\.1 to 1\.3/);
    expectWarningAt(warnings, 14, /duplicate paper number 1\.3/);
    expectWarningAt(warnings, 16, /section numbers jump from 1 to 3/);
    expectWarningAt(warnings, 19, /duplicate section number 3/);
    expectWarningAt(warnings, 22, /paper 2\.1 is outside its section 3/);
  });

  it('reads 4.10 and 4.11 after 4.9 without warnings', () => {
    const safety = doc.sections.find((s) => s.categoryName === 'Safety');
    expect(safety?.papers.map((p) => p.number)).toEqual([
      '4.1',
      '4.2',
      '4.3',
      '4.4',
      '4.5',
      '4.6',
      '4.7',
      '4.8',
      '4.9',
      '4.10',
      '4.11',
    ]);
    expect(safety?.papers[9]?.title).toBe('Tenth Safety Paper: Lessons From 3.10 Releases');
    expect(warnings.filter((w) => w.line >= 24 && w.line < 47)).toEqual([]);
  });

  it('keeps a numbered line that is not a section as text, with a warning', () => {
    expectWarningAt(warnings, 47, /looks like a section heading/);
    const last = paragraphs(allPapers(doc).at(-1)?.summary ?? '');
    expect(last).toContain('2. Not a heading');
    // Sections are stored by their place, whatever the text numbered them (1, 3, 3, 4).
    expect(doc.sections.map((sec) => sec.number)).toEqual([1, 2, 3, 4]);
  });

  it('throws NUMBERING with the line in strict mode', () => {
    const error = thrown(() => parseText(fixture('numbering-problems.txt'), { strict: true }));
    expect(error.code).toBe('NUMBERING');
    expect(error.line).toBe(12);
  });

  it('is quiet in strict mode when the numbering is right', () => {
    expect(() => parseText(fixture('clean-edition.txt'), { strict: true })).not.toThrow();
  });

  it('stores numbers contiguously, keeps the written ones, and the warnings say what is stored', () => {
    expect(
      allPapers(doc)
        .slice(0, 6)
        .map((p) => [p.number, p.numberAsWritten]),
    ).toEqual([
      ['1.1', undefined],
      ['1.2', '1.3'],
      ['1.3', undefined],
      ['2.1', '3.1'],
      ['3.1', '3.2'],
      ['3.2', '2.1'],
    ]);
    expectWarningAt(warnings, 12, /^paper numbers jump from 1\.1 to 1\.3; stored as 1\.2$/);
    expectWarningAt(warnings, 14, /^duplicate paper number 1\.3$/);
    expectWarningAt(
      warnings,
      16,
      /^section numbers jump from 1 to 3; stored as section 2 \(its papers as 2\.1, 2\.2, …\)$/,
    );
    expectWarningAt(warnings, 19, /^duplicate section number 3$/);
    expectWarningAt(warnings, 20, /^the first paper of section 3 is numbered 3\.2, expected 3\.1; stored as 3\.1$/);
    expectWarningAt(warnings, 22, /^paper 2\.1 is outside its section 3; stored as 3\.2$/);
  });

  it('names only the problem in strict mode, where nothing is stored', () => {
    expect(thrown(() => parseText(fixture('numbering-problems.txt'), { strict: true })).message).toBe(
      'line 12: paper numbers jump from 1.1 to 1.3',
    );
  });

  it('reports a paper before any section and does not import it', () => {
    const input = miniIssue().replace(
      '1. Only Section\n',
      '1.1. Too Early\nA line of that early paper.\n1. Only Section\n',
    );
    const { document, warnings: w } = parseText(input);
    expectWarningAt(w, 6, /paper 1\.1 appears before any section/);
    expectWarningAt(w, 7, /outside any section/);
    expect(allPapers(document).map((p) => p.title)).toEqual(['The Only Paper']);
    expect(thrown(() => parseText(input, { strict: true })).line).toBe(6);
  });
});

describe('text format: table of contents', () => {
  it('reports entries without a section and sections missing from the TOC', () => {
    const { document: doc, warnings } = parseText(fixture('toc-mismatch.txt'));
    expect(doc.asides).toEqual([]);
    expect(doc.tableOfContents).toEqual(['Multimodal Models', 'Benchmarks and Datasets', 'Robotics']);
    expectWarningAt(warnings, 6, /"Benchmarks and Datasets" matches no section/);
    expectWarningAt(warnings, 7, /"Robotics" matches no section/);
    expectWarningAt(warnings, 11, /section 2 "Benchmarks" is not in the table of contents/);
    expectWarningAt(warnings, 14, /section 3 "Efficiency" is not in the table of contents/);
    expect(warningsMatching(warnings, /Multimodal/)).toEqual([]);
  });

  it('matches TOC entries and sections by slug', () => {
    expect(slugify('LLM Training & Fine-Tuning')).toBe('llm-training-fine-tuning');
    expect(slugify('  Évaluation — Straße  ')).toBe('evaluation-strasse');
    expect(slugify('Ｆｕｌｌｗｉｄｔｈ 123')).toBe('fullwidth-123');
    expect(slugify('***')).toBe('');
    const input = miniIssue().replace('Only Section\n1.', 'ONLY   section!\n1.');
    expect(parseText(input).warnings).toEqual([]);
  });
});

describe('text format: stray lines', () => {
  const { document: doc, warnings } = parseText(fixture('stray-lines.txt'));

  it('reports text before the title and between a section heading and its first paper', () => {
    expectWarningAt(warnings, 1, /text before the title/);
    expectWarningAt(warnings, 11, /stray text between the heading of section 1/);
    expectWarningAt(warnings, 8, /duplicate table of contents entry "Reasoning"/);
    expect(doc.title).toMatch(/^Important LLM Papers/);
    expect(doc.sections.map((s) => s.papers.length)).toEqual([1, 1]);
  });

  it('reads "The fourth week of April 2025" in lower case', () => {
    expect([doc.weekStart, doc.weekEnd]).toEqual(['2025-04-21', '2025-04-27']);
    expect(warningsMatching(warnings, /week/i)).toEqual([]);
  });
});

describe('text format: week dates', () => {
  it('warns when the year cannot be determined and leaves the dates empty', () => {
    const { document: doc, warnings } = parseText(fixture('no-year.txt'));
    expect([doc.weekStart, doc.weekEnd]).toEqual([null, null]);
    expectWarningAt(warnings, 1, /year of the week cannot be determined/);
  });

  it('uses options.year when the text names none', () => {
    const { document: doc, warnings } = parseText(fixture('no-year.txt'), { year: 2025 });
    expect([doc.weekStart, doc.weekEnd]).toEqual(['2025-04-07', '2025-04-13']);
    expect(warnings).toEqual([]);
  });

  it('prefers the year of the text over options.year, with a warning', () => {
    const { document: doc, warnings } = parseText(fixture('clean-edition.txt'), { year: 2024 });
    expect(doc.weekStart).toBe('2025-03-10');
    expectWarningAt(warnings, 1, /options\.year 2024 differs/);
  });

  it('wraps the year from December to January', () => {
    const { document: doc, warnings } = parseText(fixture('year-wrap.txt'));
    expect([doc.weekStart, doc.weekEnd]).toEqual(['2025-12-29', '2026-01-04']);
    expect(warnings).toEqual([]);
    const january = fixture('year-wrap.txt').replace('Last Week of December 2025', 'First Week of January 2026');
    const fromJanuary = parseText(january).document;
    expect([fromJanuary.weekStart, fromJanuary.weekEnd]).toEqual(['2025-12-29', '2026-01-04']);
    const withOption = parseText(fixture('no-year.txt').replace('07/04 to 13/04', '30/12 to 05/01'), { year: 2024 });
    expect([withOption.document.weekStart, withOption.document.weekEnd]).toEqual(['2024-12-30', '2025-01-05']);
  });

  it('warns when the week ends before it starts', () => {
    const input = fixture('no-year.txt').replace('07/04 to 13/04', '13/04 to 07/04');
    const { document: doc, warnings } = parseText(input, { year: 2025 });
    expect([doc.weekStart, doc.weekEnd]).toEqual(['2025-04-13', '2025-04-07']);
    expectWarningAt(warnings, 1, /ends \(2025-04-07\) before it starts \(2025-04-13\)/);
  });

  it('warns when the range is not 7 days', () => {
    const input = fixture('no-year.txt').replace('07/04 to 13/04', '07/04 to 15/04');
    const { warnings } = parseText(input, { year: 2025 });
    expectWarningAt(warnings, 1, /spans 9 days, not 7/);
  });

  it('warns when the named week disagrees with the title', () => {
    const input = fixture('clean-edition.txt').replace('Second Week of March', 'Fourth Week of March');
    const { document: doc, warnings } = parseText(input);
    expect(doc.weekStart).toBe('2025-03-10');
    expectWarningAt(warnings, 4, /"Fourth Week of March 2025"/);
  });

  it('lets weekStart and weekEnd override, weekEnd defaulting to weekStart + 6', () => {
    const a = parseText(fixture('no-year.txt'), { weekStart: '2024-04-08' });
    expect([a.document.weekStart, a.document.weekEnd]).toEqual(['2024-04-08', '2024-04-14']);
    expect(a.warnings).toEqual([]);
    const b = parseText(fixture('no-year.txt'), { weekStart: '2024-04-08', weekEnd: '2024-04-15' });
    expect(b.document.weekEnd).toBe('2024-04-15');
    expectWarningAt(b.warnings, 1, /options: .* spans 8 days/);
    const c = parseText(fixture('no-year.txt'), { weekEnd: '2024-04-14' });
    expect([c.document.weekStart, c.document.weekEnd]).toEqual(['2024-04-08', '2024-04-14']);
    expect(() => parseText(fixture('no-year.txt'), { weekStart: '2024-02-30' })).toThrow(RangeError);
  });

  it('warns when the title has no range', () => {
    const input = miniIssue().replace('From 03/02 to 09/02', 'This Time');
    const { document: doc, warnings } = parseText(input);
    expect(doc.weekStart).toBeNull();
    expectWarningAt(warnings, 1, /no week range/);
  });

  it('has small, correct date helpers', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2025-12-29', 6)).toBe('2026-01-04');
    expect(daysBetween('2025-05-05', '2025-05-11')).toBe(6);
    expect(isIsoDate('2025-02-29')).toBe(false);
    expect(parseIsoDate('0099-01-01')).toEqual({ year: 99, month: 1, day: 1 });
    expect(addDays('0099-12-31', 1)).toBe('0100-01-01');
  });
});

// ---------------------------------------------------------------------------
// Markdown fixtures
// ---------------------------------------------------------------------------

describe('markdown format', () => {
  it('reads one-line fields as inline Markdown and stores their plain text', () => {
    const { document: doc, warnings } = parseMd(
      [
        '# **Important** LLM Papers for the Week From 05/05 to 11/05',
        '<!-- week: 2025-05-05..2025-05-11 -->',
        '',
        '*Stay Updated with Recent Large Language Models Research*',
        '',
        '## Table of Contents',
        '',
        '- LLM _Reasoning_ &amp; Planning',
        '- [My E-Book](https://example.org/book) &#8212; `v2`',
        '',
        '## My E\\-Book &mdash; `v2`',
        '',
        'Body *stays* Markdown.',
        '',
        '## 1. LLM __Reasoning__ & Planning',
        '',
        '### 1.1. `RM-R1`: Reward Modeling as *Reasoning* \\*not emphasis\\* <think> https://x.org/a_b_',
        '',
        'Summary *stays* Markdown.',
      ].join('\n'),
    );
    expect(doc.title).toBe('Important LLM Papers for the Week From 05/05 to 11/05');
    expect(doc.subtitle).toBe('Stay Updated with Recent Large Language Models Research');
    expect(doc.tableOfContents).toEqual(['LLM Reasoning & Planning', 'My E-Book — v2']);
    expect(doc.asides).toEqual([{ title: 'My E-Book — v2', body: 'Body *stays* Markdown.' }]);
    expect(doc.sections[0]?.categoryName).toBe('LLM Reasoning & Planning');
    expect(allPapers(doc)[0]).toMatchObject({
      title: 'RM-R1: Reward Modeling as Reasoning *not emphasis* <think> https://x.org/a_b_',
      summary: 'Summary *stays* Markdown.',
    });
    expect(warnings).toEqual([]);
  });

  it('reads <!-- written: S.P --> as the number as written; the number of the heading itself wins', () => {
    const { document: doc, warnings } = parseMd(
      [
        '# T From 05/05 to 11/05',
        '<!-- week: 2025-05-05..2025-05-11 -->',
        '',
        'Sub',
        '',
        '## Table of Contents',
        '',
        '- S',
        '',
        '## 1. S',
        '',
        '### 1.1. A',
        '<!-- written: 1.03 -->',
        '',
        'a',
        '',
        '### 1.2. B',
        '<!-- written: two -->',
        '',
        'b',
        '',
        '### 1.4. C',
        '<!-- written: 1.9 -->',
        '',
        'c',
        '',
        '### 1.4. D',
        '<!-- written: 1.4 -->',
        '',
        'd',
      ].join('\n'),
    );
    expect(allPapers(doc).map((p) => [p.number, p.numberAsWritten])).toEqual([
      ['1.1', '1.3'],
      ['1.2', undefined],
      ['1.3', '1.4'],
      ['1.4', undefined],
    ]);
    expectWarningAt(warnings, 18, /"two" is not a paper number/);
    expectWarningAt(warnings, 22, /jump from 1\.2 to 1\.4; stored as 1\.3/);
    expectWarningAt(warnings, 23, /the heading already numbers this paper 1\.4; the written-number comment is ignored/);
    expectWarningAt(warnings, 27, /duplicate paper number 1\.4/);
    expect(allPapers(doc).map((p) => p.summary)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads a hand-written edition', () => {
    const { document: doc, warnings } = parseMd(fixture('edition.md'));
    expect(warnings).toEqual([]);
    expect(doc.subtitle).toBe('Short Reads on *New* Models');
    expect(paragraphs(doc.intro)).toHaveLength(2);
    expect(doc.tableOfContents).toEqual([
      'Compression',
      'Reasoning & Planning',
      'Study Group: Reading Papers Together',
    ]);
    expect(doc.asides).toEqual([
      {
        title: 'Study Group: Reading Papers Together',
        body: 'We meet online every second Thursday to read one paper slowly.',
      },
    ]);
    expect([doc.weekStart, doc.weekEnd]).toEqual(['2025-06-16', '2025-06-22']);
    const [pruning, adapters, plans] = allPapers(doc);
    expect(pruning).toEqual({
      number: '1.1',
      title: 'Pruning With a _Budget_',
      url: 'https://arxiv.org/abs/2506.01111',
      arxivId: '2506.01111',
      summary:
        'The method removes weights until a target memory budget is met:\n\n- 40% fewer parameters\n- 2% accuracy drop\n\n## This line starts with two hashes but is text.',
    });
    expect(adapters).toMatchObject({ title: 'Quantized Adapters for 3.10 Releases', url: null, arxivId: null });
    expect(plans).toMatchObject({ number: '2.1', arxivId: '2506.02222' });
    expect(doc.outro).toBe('Questions? Reply to this email.\n\nMentoring: https://example.org/mentoring');
  });

  it('reports malformed parts with their lines', () => {
    const { document: doc, warnings } = parseMd(fixture('malformed.md'));
    expectWarningAt(warnings, 1, /text before the title/);
    expectWarningAt(warnings, 4, /spans 9 days/);
    expectWarningAt(warnings, 11, /not a "- entry" item/);
    expectWarningAt(warnings, 14, /aside "Hidden Aside" is not in the table of contents/);
    expectWarningAt(warnings, 18, /paper 0\.1 appears before any section/);
    expectWarningAt(warnings, 20, /outside any section/);
    expectWarningAt(warnings, 24, /stray text between the heading of section 1/);
    expectWarningAt(warnings, 27, /does not look like an arXiv id/);
    expectWarningAt(warnings, 31, /jump from 1\.1 to 1\.3/);
    expect(doc.tableOfContents).toEqual(['Vision', 'Audio']);
    expect(doc.asides.map((a) => a.title)).toEqual(['Hidden Aside']);
    expect(allPapers(doc).map((p) => [p.number, p.numberAsWritten])).toEqual([
      ['1.1', undefined],
      ['1.2', '1.3'],
      ['2.1', undefined],
    ]);
    expect(allPapers(doc)[0]?.arxivId).toBe('not-an-id');
    expect(doc.outro).toBe('');
    expect(thrown(() => parseMd(fixture('malformed.md'), { strict: true })).line).toBe(18);
  });

  it('derives the week from the title when there is no week comment', () => {
    const input = fixture('edition.md').replace(/^<!-- week:.*\n/m, '');
    const { document: doc, warnings } = parseMd(input);
    expect([doc.weekStart, doc.weekEnd]).toEqual(['2025-06-16', '2025-06-22']);
    expect(warnings).toEqual([]);
  });

  it('warns when the week comment and the title disagree, and on a bad comment', () => {
    const shifted = parseMd(fixture('edition.md').replace('2025-06-16..2025-06-22', '2025-06-23..2025-06-29'));
    expect(shifted.document.weekStart).toBe('2025-06-23');
    expectWarningAt(shifted.warnings, 1, /differs from the week comment/);
    const bad = parseMd(fixture('edition.md').replace('2025-06-16..2025-06-22', '2025-13-01..?'));
    expect([bad.document.weekStart, bad.document.weekEnd]).toEqual([null, null]);
    expectWarningAt(bad.warnings, 2, /invalid date "2025-13-01"/);
  });

  it('requires a title line', () => {
    expect(thrown(() => parseMd('No heading here.\n\n## 1. Section\n')).code).toBe('STRUCTURE');
  });

  it('keeps a trailing "---" inside the body when headings follow it', () => {
    const input = fixture('edition.md').replace('Each summary is short', '---\n\nEach summary is short');
    const { document: doc } = parseMd(input);
    expect(paragraphs(doc.intro)).toEqual([
      'This issue collects papers from the Third Week of June 2025.',
      '---',
      'Each summary is short; bullets keep the key numbers.',
    ]);
    expect(doc.outro).toMatch(/^Questions\?/);
  });
});

// ---------------------------------------------------------------------------
// Hard errors
// ---------------------------------------------------------------------------

describe('hard errors', () => {
  it('rejects a NUL byte with its line', () => {
    const error = thrown(() => parseText(miniIssue().replace('Tiny Subtitle', 'Tiny\0Subtitle')));
    expect(error.code).toBe('NUL_BYTE');
    expect(error.line).toBe(2);
    expect(error.message).toMatch(/line 2: .*NUL/);
    const crlf = thrown(() => parseText('a\r\nb\rc\n\0'));
    expect(crlf.line).toBe(4);
  });

  it('rejects invalid UTF-8 bytes with the line', () => {
    const good = new TextEncoder().encode(miniIssue());
    const breakAt = good.indexOf(0x0a, good.indexOf(0x0a) + 1) + 3; // inside line 3
    for (const bad of [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]]) {
      const bytes = new Uint8Array([...good.slice(0, breakAt), ...bad, ...good.slice(breakAt)]);
      const error = thrown(() => parseText(bytes));
      expect(error.code).toBe('INVALID_ENCODING');
      expect(error.line).toBe(3);
    }
  });

  it('accepts valid multi-byte UTF-8 and a BOM in bytes', () => {
    const bytes = new TextEncoder().encode(`\uFEFF${miniIssue('Emoji 😀, accents é, dash — and quotes “x”.')}`);
    const last = allPapers(parseText(bytes).document).at(-1);
    expect(last?.summary).toContain('😀');
  });

  it('rejects lone surrogates in strings', () => {
    for (const bad of ['\uD800', '\uDC00', 'x\uD83D', '\uDE00x']) {
      const error = thrown(() => parseText(miniIssue().replace('Tiny Subtitle', `Tiny ${bad}`)));
      expect(error.code).toBe('INVALID_ENCODING');
      expect(error.line).toBe(2);
    }
  });

  it('rejects empty input', () => {
    for (const empty of ['', '   \n\t\r\n', '\uFEFF', new Uint8Array([0xef, 0xbb, 0xbf, 0x20])]) {
      expect(thrown(() => parseText(empty)).code).toBe('EMPTY');
    }
  });

  it('rejects text without any numbered section', () => {
    expect(thrown(() => parseText('Important LLM Papers for the Week From 01/01 to 07/01\nJust words.')).code).toBe(
      'STRUCTURE',
    );
  });

  it('rejects an unknown format', () => {
    expect(() => parseIssue('x', { format: 'html' as unknown as 'text' })).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------
// Performance on hostile input
// ---------------------------------------------------------------------------

describe('pathological inputs finish quickly', () => {
  // CPU time of this process, not wall time: other work on the machine must not fail the test.
  function timed(label: string, fn: () => unknown): void {
    const start = process.cpuUsage();
    fn();
    const used = process.cpuUsage(start);
    const cpuMs = (used.user + used.system) / 1000;
    expect(cpuMs, `${label} took ${cpuMs.toFixed(0)} ms of CPU`).toBeLessThan(2000);
  }

  const MB = 1024 * 1024;

  it('a 1 MB summary line', () => {
    timed('1 MB line', () => {
      const result = parseText(miniIssue(`Long ${'word '.repeat(MB / 5)}end.`));
      expect(allPapers(result.document)[0]?.summary.length).toBeGreaterThan(MB);
    });
  });

  it('1 MB lines of spaces, dots, digits and slashes in every position', () => {
    const hostile = [
      ' '.repeat(MB) + 'x',
      '.'.repeat(MB),
      '1.'.repeat(MB / 2),
      '1/1 '.repeat(MB / 4),
      `1/1${' '.repeat(MB)}`,
      `first${' '.repeat(MB)}week`,
      `<!--${' '.repeat(MB)}`,
      `Label${' '.repeat(MB)}: https://x`,
      `${'#'.repeat(MB)} x`,
      `${'- '.repeat(MB / 2)}`,
    ];
    for (const line of hostile) {
      timed(`text ${JSON.stringify(line.slice(0, 12))}`, () => {
        parseText(
          `Important LLM Papers for the Week From 01/01 to 07/01 ${line}\n${line}\n${line}\nTable of Contents:\n${line}\nS\n1. S\n1.1. P\n${line}\n${line}`,
        );
      });
      timed(`markdown ${JSON.stringify(line.slice(0, 12))}`, () => {
        parseMd(
          `# T ${line}\n<!-- week: ${line} -->\n${line}\n\n${line}\n## Table of Contents\n- ${line}\n## 1. S\n### 1.1. P\n<!-- url: ${line}\n${line}\n---\n${line}`,
        );
      });
    }
  });

  it('100k repeated "1.1.1.1." as one line and as lines', () => {
    timed('one line', () => parseText(miniIssue('1.1.1.1.'.repeat(100_000))));
    timed('many lines', () => parseText(miniIssue(Array.from({ length: 100_000 }, () => '1.1.1.1.').join('\n'))));
    timed('many paper headings', () => {
      const result = parseText(miniIssue(Array.from({ length: 100_000 }, () => '1.1. P').join('\n')));
      expect(allPapers(result.document)).toHaveLength(100_001);
      expect(warningsMatching(result.warnings, /duplicate paper number/)).toHaveLength(100_000);
      expect(warningsMatching(result.warnings, /has no summary/)).toHaveLength(100_000);
    });
    timed('many markdown headings', () => parseMd(`# T\n\n${'### 1.1. x\n'.repeat(100_000)}## 1. S\n`));
  });

  it('one-line Markdown fields full of emphasis and link delimiters', () => {
    for (const unit of ['__a', '*a', '**a', 'a_', '[*', '*_[`<&~']) {
      // As many delimiters as are read as Markdown (64), then plain text up to 1000 characters; and all delimiters.
      const most = unit.repeat(Math.floor(64 / unit.replace(/[^*_~[]/g, '').length));
      for (const line of [most.padEnd(1000, 'x'), unit.repeat(1000).slice(0, 1000)]) {
        const toc = Array.from({ length: 1000 }, () => `- ${line}`).join('\n');
        timed(`inline ${JSON.stringify(line.slice(0, 12))}`, () =>
          parseMd(`# ${line}\n\n${line}\n\n## Table of Contents\n\n${toc}\n\n## 1. ${line}\n\n### 1.1. ${line}\n`),
        );
      }
      timed(`long inline ${JSON.stringify(unit)}`, () =>
        parseMd(`# ${unit.repeat(MB / unit.length)}\n\n## 1. S\n\n### 1.1. P\n`),
      );
    }
  });

  it('10 000 combining marks', () => {
    const marks = `a${'\u0301'.repeat(10_000)}`;
    timed('combining marks', () => {
      const result = parseText(miniIssue(marks).replace('Only Section\n1. Only Section', `${marks}\n1. ${marks}`));
      expect(result.document.sections[0]?.categoryName).toBe(marks);
      expect(slugify(marks)).toBe('a');
    });
  });
});

describe('src/newsletter is pure', () => {
  const root = path.join(repoRoot, 'src', 'newsletter');
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );

  it('imports nothing of the project outside src/newsletter (no database, GraphQL or editorial types)', () => {
    const outside: string[] = [];
    for (const file of sources(root)) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)'([^']+)'/g)) {
        if (!specifier!.startsWith('.')) continue; // packages (marked) are fine
        const target = path.resolve(path.dirname(file), specifier!);
        if (!target.startsWith(`${root}${path.sep}`)) outside.push(`${path.relative(repoRoot, file)} → ${specifier}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
