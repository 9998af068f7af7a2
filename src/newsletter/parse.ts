/**
 * Parser for one edition of "Important LLM Papers for the Week", either as the
 * plain text it is published as (format 'text') or as the Markdown export
 * (format 'markdown', see ./markdown.ts). Pure: no I/O, no clock.
 *
 * The rules are documented in docs/import-format.md; every rule below carries
 * a "Rule:" comment that names it.
 */
import { ARXIV_LABEL_LINE, ARXIV_URL_LINE, looksLikeArxivId } from './arxiv.js';
import { addDays, daysBetween, daysInMonth, isIsoDate, isValidCalendarDate, parseIsoDate, toIsoDate } from './dates.js';
import {
  META_ARXIV,
  META_SUBTITLE,
  META_URL,
  META_WEEK,
  META_WRITTEN,
  NO_SUBTITLE,
  UNKNOWN_DATE,
  inlineMarkdownToText,
  parseMetaComment,
  unescapeBodyLine,
} from './markdown.js';
import { slugify } from './slug.js';
import type {
  IssueAside,
  IssueDocument,
  IssueSection,
  ParseOptions,
  ParseResult,
  ParseWarning,
} from './types.js';

// ===========================================================================
// Errors and input decoding
// ===========================================================================

export type IssueParseErrorCode = 'INVALID_ENCODING' | 'NUL_BYTE' | 'EMPTY' | 'STRUCTURE' | 'NUMBERING';

/** A hard error: the input cannot be imported. `line` is 1-based when known. */
export class IssueParseError extends Error {
  code: IssueParseErrorCode;
  line?: number;

  constructor(code: IssueParseErrorCode, message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'IssueParseError';
    this.code = code;
    if (line !== undefined) this.line = line;
  }
}

/** 1-based line of a position, counting "\r\n", "\r" and "\n" as one break each. */
function lineAtIndex(unitAt: (i: number) => number | undefined, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) {
    const unit = unitAt(i);
    if (unit === 0x0a || (unit === 0x0d && unitAt(i + 1) !== 0x0a)) line++;
  }
  return line;
}

const codeUnitOf =
  (text: string) =>
  (i: number): number | undefined =>
    i < text.length ? text.charCodeAt(i) : undefined;

/** Offset of the first byte that does not start a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    // Continuation count and the allowed range of the second byte (excludes
    // overlong forms, UTF-16 surrogates and code points above U+10FFFF).
    let count: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) count = 1;
    else if (lead === 0xe0) [count, low] = [2, 0xa0];
    else if (lead === 0xed) [count, high] = [2, 0x9f];
    else if (lead >= 0xe1 && lead <= 0xef) count = 2;
    else if (lead === 0xf0) [count, low] = [3, 0x90];
    else if (lead === 0xf4) [count, high] = [3, 0x8f];
    else if (lead >= 0xf1 && lead <= 0xf3) count = 3;
    else return i;
    for (let k = 1; k <= count; k++) {
      const next = bytes[i + k];
      const [min, max] = k === 1 ? [low, high] : [0x80, 0xbf];
      if (next === undefined || next < min || next > max) return i;
    }
    i += count + 1;
  }
  return -1;
}

function decodeBytes(bytes: Uint8Array): string {
  try {
    // Rule: invalid UTF-8 is rejected (fatal decoder); a leading BOM is dropped by the decoder.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = Math.max(0, firstInvalidUtf8Offset(bytes));
    throw new IssueParseError(
      'INVALID_ENCODING',
      `the input is not valid UTF-8 (first invalid byte at offset ${offset})`,
      lineAtIndex((i) => bytes[i], offset),
    );
  }
}

/** Index of the first unpaired UTF-16 surrogate, or -1. */
function firstLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return i;
  }
  return -1;
}

/** Decodes and validates the input; returns the text without BOM. */
function decodeInput(input: string | Uint8Array): string {
  let text: string;
  if (typeof input === 'string') {
    // Rule: a string with a lone surrogate cannot be stored as UTF-8.
    const bad = firstLoneSurrogate(input);
    if (bad >= 0) {
      throw new IssueParseError(
        'INVALID_ENCODING',
        'the input contains an unpaired UTF-16 surrogate',
        lineAtIndex(codeUnitOf(input), bad),
      );
    }
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else {
    text = decodeBytes(input);
  }
  // Rule: NUL characters are rejected, with their line.
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    throw new IssueParseError('NUL_BYTE', 'the input contains a NUL character', lineAtIndex(codeUnitOf(text), nul));
  }
  // Rule: an input with no visible text is rejected.
  if (text.trim() === '') throw new IssueParseError('EMPTY', 'the input is empty');
  return text;
}

/** Rule: CRLF, CR and LF all end a line. */
function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

// ===========================================================================
// Shared helpers
// ===========================================================================

interface SourceLine {
  /** 1-based line number in the input. */
  line: number;
  text: string;
}

const BLANK = /^[ \t]*$/;
const LEADING_NUMBER = /^\d{1,4}\.[ \t\u00a0]+/;

/** Short, single-line excerpt for warning messages (lines may be 1 MB long). */
function excerpt(text: string, max = 60): string {
  const flat = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(flat);
}

/**
 * Key used to compare TOC entries, section names and aside titles: the slug of
 * the text without a leading "2. " (TOC entries may be numbered); when the slug
 * is empty (e.g. only emoji), the lower-cased text itself.
 */
function matchKey(text: string): string {
  const withoutNumber = text.replace(LEADING_NUMBER, '');
  return slugify(withoutNumber) || `=${withoutNumber.trim().toLowerCase()}`;
}

// ===========================================================================
// Building the document (shared by both formats)
// ===========================================================================

interface PaperDraft {
  line: number;
  /** The number it is stored under: its section's stored number and its position ("2.2"). */
  number: string;
  /** The number the text wrote, when it differs from `number` (a numbering gap: "2.3"). */
  numberAsWritten: string | null;
  title: string;
  body: SourceLine[];
  url: string | null;
  arxivId: string | null;
}

interface SectionDraft {
  line: number;
  /** As written (numbering checks compare with it). */
  number: number;
  /** 1, 2, 3, …: the number it is stored under. */
  storedNumber: number;
  categoryName: string;
  papers: PaperDraft[];
  /** Paper positions seen in this section ("2.3" → 3). */
  seenPositions: Set<number>;
  lastPosition: number;
}

interface AsideDraft {
  line: number;
  title: string;
  body: SourceLine[];
}

/** Where the next body line goes. */
type Target =
  | { kind: 'intro' }
  | { kind: 'aside'; aside: AsideDraft }
  | { kind: 'section'; section: SectionDraft }
  | { kind: 'paper'; paper: PaperDraft }
  | { kind: 'orphan'; number: string };

class IssueBuilder {
  readonly warnings: ParseWarning[] = [];
  title: SourceLine = { line: 1, text: '' };
  subtitle: SourceLine | null = null;
  readonly intro: SourceLine[] = [];
  readonly toc: SourceLine[] = [];
  readonly asides: AsideDraft[] = [];
  readonly sections: SectionDraft[] = [];
  outro: SourceLine[] = [];
  private target: Target = { kind: 'intro' };
  private lastSectionNumber = 0;
  private readonly seenSectionNumbers = new Set<number>();

  constructor(private readonly strict: boolean) {}

  warn(line: number, message: string): void {
    this.warnings.push({ line, message });
  }

  /**
   * Rule: numbering problems are warnings, or IssueParseError 'NUMBERING'
   * when options.strict. The warning says what number is stored instead.
   */
  private numberingProblem(line: number, message: string, storedAs: string | null): void {
    if (this.strict) throw new IssueParseError('NUMBERING', message, line);
    this.warn(line, storedAs === null ? message : `${message}; stored as ${storedAs}`);
  }

  get currentPaper(): PaperDraft | null {
    return this.target.kind === 'paper' ? this.target.paper : null;
  }

  startAside(line: number, title: string): void {
    const aside: AsideDraft = { line, title, body: [] };
    this.asides.push(aside);
    this.target = { kind: 'aside', aside };
  }

  /**
   * Rule: sections are numbered 1, 2, 3, … without gaps or duplicates. They
   * are stored by their order (the n-th section is section n), whatever the
   * text wrote.
   */
  startSection(line: number, number: number, categoryName: string): void {
    const expected = this.lastSectionNumber + 1;
    const storedNumber = this.sections.length + 1;
    const storedAs = storedNumber === number ? null : `section ${storedNumber} (its papers as ${storedNumber}.1, ${storedNumber}.2, …)`;
    if (this.seenSectionNumbers.has(number)) {
      this.numberingProblem(line, `duplicate section number ${number}`, storedAs);
    } else if (number !== expected) {
      const problem =
        number > expected
          ? this.lastSectionNumber === 0
            ? `the first section is numbered ${number}, expected 1`
            : `section numbers jump from ${this.lastSectionNumber} to ${number}`
          : `section ${number} is out of order (after section ${this.lastSectionNumber})`;
      this.numberingProblem(line, problem, storedAs);
    }
    this.seenSectionNumbers.add(number);
    this.lastSectionNumber = number;
    const section: SectionDraft = { line, number, storedNumber, categoryName, papers: [], seenPositions: new Set(), lastPosition: 0 };
    this.sections.push(section);
    this.target = { kind: 'section', section };
  }

  /**
   * Rule: papers are numbered S.1, S.2, … under section S. A paper whose first
   * number is not the current section, a gap, a duplicate or a paper before
   * any section is a numbering problem. A paper is stored under the current
   * section, numbered by its place ("2.1", "2.3" → "2.1", "2.2"); the number
   * as written (normalised to integers: "3.010." → "3.10") is kept as
   * numberAsWritten when it differs. Papers before the first section cannot
   * be placed and are reported instead.
   */
  startPaper(line: number, sectionNumber: number, position: number, title: string): PaperDraft | null {
    const written = `${sectionNumber}.${position}`;
    const section = this.sections.at(-1);
    if (!section) {
      this.numberingProblem(line, `paper ${written} appears before any section heading; it is not imported`, null);
      this.target = { kind: 'orphan', number: written };
      return null;
    }
    const number = `${section.storedNumber}.${section.papers.length + 1}`;
    this.checkPaperNumber(line, section, sectionNumber, position, number === written ? null : number);
    const paper: PaperDraft = {
      line,
      number,
      numberAsWritten: number === written ? null : written,
      title,
      body: [],
      url: null,
      arxivId: null,
    };
    section.papers.push(paper);
    this.target = { kind: 'paper', paper };
    return paper;
  }

  private checkPaperNumber(line: number, section: SectionDraft, sectionNumber: number, position: number, storedAs: string | null): void {
    const number = `${sectionNumber}.${position}`;
    if (sectionNumber !== section.number) {
      this.numberingProblem(line, `paper ${number} is outside its section ${section.number}`, storedAs);
    } else if (section.seenPositions.has(position)) {
      this.numberingProblem(line, `duplicate paper number ${number}`, storedAs);
    } else if (position !== section.lastPosition + 1) {
      const previous = `${section.number}.${section.lastPosition}`;
      this.numberingProblem(
        line,
        position > section.lastPosition + 1
          ? section.lastPosition === 0
            ? `the first paper of section ${section.number} is numbered ${number}, expected ${section.number}.1`
            : `paper numbers jump from ${previous} to ${number}`
          : `paper ${number} is out of order (after ${previous})`,
        storedAs,
      );
    }
    if (sectionNumber === section.number) {
      section.seenPositions.add(position);
      section.lastPosition = position;
    }
  }

  /** Rule: every line lands in a field or in a warning with its line number. */
  addBodyLine(source: SourceLine): void {
    const target = this.target;
    switch (target.kind) {
      case 'intro':
        this.intro.push(source);
        return;
      case 'aside':
        target.aside.body.push(source);
        return;
      case 'paper':
        target.paper.body.push(source);
        return;
      case 'section':
        if (!BLANK.test(source.text)) {
          this.warn(
            source.line,
            `stray text between the heading of section ${target.section.number} and its first paper: ${excerpt(source.text)}`,
          );
        }
        return;
      case 'orphan':
        if (!BLANK.test(source.text)) {
          this.warn(source.line, `text of paper ${target.number}, which is outside any section, is not imported: ${excerpt(source.text)}`);
        }
        return;
    }
  }

  /** Rule: the table of contents is checked against sections and asides (by slugify). */
  checkTableOfContents(): void {
    if (this.toc.length === 0) {
      this.warn(this.title.line, 'the edition has no table of contents');
      return;
    }
    const tocKeys = new Map<string, SourceLine>();
    for (const entry of this.toc) {
      const key = matchKey(entry.text);
      if (tocKeys.has(key)) this.warn(entry.line, `duplicate table of contents entry ${excerpt(entry.text)}`);
      else tocKeys.set(key, entry);
    }
    const sectionKeys = new Set(this.sections.map((s) => matchKey(s.categoryName)));
    const asideKeys = new Set(this.asides.map((a) => matchKey(a.title)));
    for (const section of this.sections) {
      if (!tocKeys.has(matchKey(section.categoryName))) {
        this.warn(section.line, `section ${section.number} ${excerpt(section.categoryName)} is not in the table of contents`);
      }
    }
    for (const aside of this.asides) {
      if (!tocKeys.has(matchKey(aside.title))) {
        this.warn(aside.line, `aside ${excerpt(aside.title)} is not in the table of contents`);
      }
    }
    for (const [key, entry] of tocKeys) {
      if (!sectionKeys.has(key) && !asideKeys.has(key)) {
        this.warn(entry.line, `table of contents entry ${excerpt(entry.text)} matches no section and no aside`);
      }
    }
  }

  /** Rule: empty sections and papers without a summary are reported. */
  checkEmptyBlocks(joinBody: (lines: SourceLine[]) => string): void {
    for (const section of this.sections) {
      if (section.papers.length === 0) this.warn(section.line, `section ${section.number} has no papers`);
      for (const paper of section.papers) {
        if (joinBody(paper.body) === '') this.warn(paper.line, `paper ${paper.number} has no summary`);
      }
    }
  }

  build(joinBody: (lines: SourceLine[]) => string, week: Week): ParseResult {
    // Rule: an edition without any numbered section is not an edition.
    if (this.sections.length === 0) {
      throw new IssueParseError('STRUCTURE', 'no numbered section heading ("1. Category") was found');
    }
    this.checkTableOfContents();
    this.checkEmptyBlocks(joinBody);
    const sections: IssueSection[] = this.sections.map((s) => ({
      number: s.storedNumber,
      categoryName: s.categoryName,
      papers: s.papers.map((p) => ({
        number: p.number,
        // (the key only when it differs, so documents compare as written)
        ...(p.numberAsWritten === null ? {} : { numberAsWritten: p.numberAsWritten }),
        title: p.title,
        summary: joinBody(p.body),
        url: p.url,
        arxivId: p.arxivId,
      })),
    }));
    const asides: IssueAside[] = this.asides.map((a) => ({ title: a.title, body: joinBody(a.body) }));
    const document: IssueDocument = {
      title: this.title.text,
      subtitle: this.subtitle?.text ?? '',
      intro: joinBody(this.intro),
      tableOfContents: this.toc.map((entry) => entry.text),
      asides,
      weekStart: week.start,
      weekEnd: week.end,
      sections,
      outro: joinBody(this.outro),
    };
    // Warnings in input order (stable for equal lines).
    const warnings = [...this.warnings].sort((a, b) => a.line - b.line);
    return { document, warnings };
  }
}

// ===========================================================================
// Week dates
// ===========================================================================

interface Week {
  start: string | null;
  end: string | null;
}

interface DayMonthRange {
  startDay: number;
  startMonth: number;
  endDay: number;
  endMonth: number;
  text: string;
}

interface WeekPhrase {
  line: number;
  text: string;
  /** 1–5, or -1 for "last". */
  ordinal: number;
  month: number;
  year: number | null;
}

interface WeekContext {
  title: SourceLine;
  /** Title, subtitle and intro: where a year or "First Week of May 2025" may be named. */
  textLines: SourceLine[];
  /** Markdown `<!-- week: … -->`, authoritative when present. */
  comment: (Week & { line: number }) | null;
  options: ParseOptions;
  warn: (line: number, message: string) => void;
}

const MONTHS = [
  'january', 'february', 'march', 'april', 'may', 'june',
  'july', 'august', 'september', 'october', 'november', 'december',
];
const ORDINALS: Readonly<Record<string, number>> = {
  first: 1, '1st': 1, second: 2, '2nd': 2, third: 3, '3rd': 3,
  fourth: 4, '4th': 4, fifth: 5, '5th': 5, last: -1,
};
/** "05/05 to 11/05" (day/month); bounded repetitions only, so no backtracking blow-up. */
const WEEK_RANGE = /\b(\d{1,2})\/(\d{1,2})[ \t]{0,8}(?:to|until|-|–|—)[ \t]{0,8}(\d{1,2})\/(\d{1,2})\b/i;
const WEEK_PHRASE = new RegExp(
  `\\b(${Object.keys(ORDINALS).join('|')})[ \\t]{1,8}week[ \\t]{1,8}of[ \\t]{1,8}(${MONTHS.join('|')})\\b(?:,?[ \\t]{0,8}((?:19|20)\\d{2})\\b)?`,
  'i',
);
const YEAR = /\b(?:19|20)\d{2}\b/g;

function readTitleRange(title: SourceLine, warn: WeekContext['warn']): DayMonthRange | null {
  const match = WEEK_RANGE.exec(title.text);
  if (!match) return null;
  const [text, sd, sm, ed, em] = match as unknown as [string, string, string, string, string];
  const range = { startDay: Number(sd), startMonth: Number(sm), endDay: Number(ed), endMonth: Number(em), text };
  const plausible = (day: number, month: number): boolean => day >= 1 && day <= 31 && month >= 1 && month <= 12;
  if (!plausible(range.startDay, range.startMonth) || !plausible(range.endDay, range.endMonth)) {
    warn(title.line, `the week range ${excerpt(text)} in the title is not a valid DD/MM to DD/MM range`);
    return null;
  }
  return range;
}

function findWeekPhrase(lines: SourceLine[]): WeekPhrase | null {
  for (const source of lines) {
    const match = WEEK_PHRASE.exec(source.text);
    if (!match) continue;
    const [text, ordinal, month, year] = match as unknown as [string, string, string, string | undefined];
    return {
      line: source.line,
      text,
      ordinal: ORDINALS[ordinal.toLowerCase()] ?? 1,
      month: MONTHS.indexOf(month.toLowerCase()) + 1,
      year: year === undefined ? null : Number(year),
    };
  }
  return null;
}

/**
 * Rule: the year comes from the text ("First Week of May 2025" first, else the
 * first 19xx/20xx in title, subtitle, intro), else from options.year.
 */
function determineYear(ctx: WeekContext, phrase: WeekPhrase | null): number | null {
  const years: { line: number; year: number }[] = [];
  for (const source of ctx.textLines) {
    for (const match of source.text.matchAll(YEAR)) years.push({ line: source.line, year: Number(match[0]) });
  }
  const first = years[0];
  const textYear = phrase?.year ?? first?.year ?? null;
  const distinct = [...new Set(years.map((y) => y.year))];
  if (first && distinct.length > 1) {
    ctx.warn(first.line, `several years are named (${distinct.join(', ')}); using ${textYear}`);
  }
  const optionYear = ctx.options.year;
  if (textYear !== null) {
    if (optionYear !== undefined && optionYear !== textYear) {
      ctx.warn(ctx.title.line, `options.year ${optionYear} differs from the year ${textYear} named in the text; using ${textYear}`);
    }
    return textYear;
  }
  return optionYear ?? null;
}

/**
 * Rule: a range from December to January wraps the year. The year found is the
 * start's year, unless the text names a week of January (then it is the end's).
 */
function datesFromRange(range: DayMonthRange, year: number, phrase: WeekPhrase | null): Week | null {
  const wraps = range.startMonth === 12 && range.endMonth === 1;
  let startYear = year;
  let endYear = year;
  if (wraps && phrase?.month === 1) startYear = year - 1;
  else if (wraps) endYear = year + 1;
  if (!isValidCalendarDate(startYear, range.startMonth, range.startDay)) return null;
  if (!isValidCalendarDate(endYear, range.endMonth, range.endDay)) return null;
  return {
    start: toIsoDate(startYear, range.startMonth, range.startDay),
    end: toIsoDate(endYear, range.endMonth, range.endDay),
  };
}

/** Rule: a week is 7 days (end = start + 6) and does not end before it starts. */
function checkWeekLength(start: string, end: string, line: number, source: string, warn: WeekContext['warn']): void {
  const days = daysBetween(start, end);
  if (days < 0) warn(line, `${source}: the week ends (${end}) before it starts (${start})`);
  else if (days !== 6) warn(line, `${source}: the week ${start}..${end} spans ${days + 1} days, not 7`);
}

/**
 * Rule: when the text names "Nth Week of Month", the week must start within 6
 * days of that week's first day (day 7N-6; "last" = last day - 6).
 */
function checkWeekPhrase(week: Week, phrase: WeekPhrase, year: number, warn: WeekContext['warn']): void {
  if (week.start === null) return;
  const phraseYear = phrase.year ?? year;
  const lastDay = daysInMonth(phraseYear, phrase.month);
  const firstDay = phrase.ordinal === -1 ? lastDay - 6 : Math.min(7 * phrase.ordinal - 6, lastDay - 6);
  const anchor = toIsoDate(phraseYear, phrase.month, firstDay);
  if (Math.abs(daysBetween(anchor, week.start)) > 6) {
    warn(phrase.line, `the text names the ${excerpt(phrase.text)} but the title's week is ${week.start}..${week.end}`);
  }
}

function optionDate(name: 'weekStart' | 'weekEnd', value: string): string {
  if (!parseIsoDate(value)) throw new RangeError(`options.${name} must be an ISO date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return value;
}

/** Week from the title and text (or the Markdown week comment), before editor overrides. */
function weekFromDocument(ctx: WeekContext): Week {
  const range = readTitleRange(ctx.title, ctx.warn);
  if (ctx.comment) {
    const { start, end, line } = ctx.comment;
    const same = (iso: string | null, day: number, month: number): boolean => {
      const date = iso === null ? null : parseIsoDate(iso);
      return date !== null && date.day === day && date.month === month;
    };
    if (range && (!same(start, range.startDay, range.startMonth) || !same(end, range.endDay, range.endMonth))) {
      ctx.warn(ctx.title.line, `the title's range ${excerpt(range.text)} differs from the week comment ${start ?? UNKNOWN_DATE}..${end ?? UNKNOWN_DATE}`);
    }
    if (start !== null && end !== null) checkWeekLength(start, end, line, 'week comment', ctx.warn);
    return { start, end };
  }
  const overridden = ctx.options.weekStart !== undefined;
  if (!range) {
    if (!overridden) ctx.warn(ctx.title.line, 'the title names no week range "DD/MM to DD/MM"; weekStart/weekEnd are empty');
    return { start: null, end: null };
  }
  const phrase = findWeekPhrase(ctx.textLines);
  const year = determineYear(ctx, phrase);
  if (year === null) {
    // Rule: no year in the text and no options.year → null dates and a warning.
    if (!overridden) {
      ctx.warn(ctx.title.line, 'the year of the week cannot be determined; pass options.year or options.weekStart (weekStart/weekEnd are empty)');
    }
    return { start: null, end: null };
  }
  const week = datesFromRange(range, year, phrase);
  if (!week) {
    ctx.warn(ctx.title.line, `the title's range ${excerpt(range.text)} is not a valid date range in ${year}`);
    return { start: null, end: null };
  }
  checkWeekLength(week.start ?? '', week.end ?? '', ctx.title.line, `title ${excerpt(range.text)}`, ctx.warn);
  if (phrase) checkWeekPhrase(week, phrase, year, ctx.warn);
  return week;
}

/**
 * Rule: options.weekStart / options.weekEnd override what the document says;
 * weekEnd defaults to weekStart + 6 days (weekStart to weekEnd - 6 days when
 * only weekEnd is given and the document has no start).
 */
function resolveWeek(ctx: WeekContext): Week {
  const { weekStart, weekEnd, year } = ctx.options;
  if (year !== undefined && (!Number.isInteger(year) || year < 1 || year > 9999)) {
    throw new RangeError(`options.year must be an integer year, got ${year}`);
  }
  const fromDocument = weekFromDocument(ctx);
  if (weekStart === undefined && weekEnd === undefined) return fromDocument;
  const start = weekStart === undefined ? undefined : optionDate('weekStart', weekStart);
  const end = weekEnd === undefined ? undefined : optionDate('weekEnd', weekEnd);
  const finalStart = start ?? fromDocument.start ?? (end === undefined ? null : addDays(end, -6));
  const finalEnd = end ?? (start === undefined ? fromDocument.end : addDays(start, 6));
  // (a bound computed past year 9999 is no ISO date: the importer rejects the week, nothing to measure)
  if (finalStart !== null && finalEnd !== null && isIsoDate(finalStart) && isIsoDate(finalEnd)) {
    checkWeekLength(finalStart, finalEnd, ctx.title.line, 'options', ctx.warn);
  }
  return { start: finalStart, end: finalEnd };
}

// ===========================================================================
// Plain text format
// ===========================================================================

const TEXT_SECTION = /^(\d{1,4})\.[ \t\u00a0]+/;
const TEXT_PAPER = /^(\d{1,4})\.(\d{1,4})\.[ \t\u00a0]+/;
const TEXT_TOC = /^table of contents[ \t]*:?$/i;
const FOR_THE_WEEK = /\bfor the week\b/i;
/** Ends like a sentence: . ! ? … optionally followed by one closing quote or bracket. */
const SENTENCE_END = /[.!?…][)\]"'”’»]?$/;

/** "Label: https://…" or a bare URL. */
const LINK_LINE = /^(?:[^:]{1,80}:[ \t]*)?https?:\/\/\S+$/i;
/** Words that mark a call to action of the author rather than paper text. */
const CALL_TO_ACTION = /\b(?:mentor(?:s|ing|ship)?|subscribe|follow me|newsletter|career|my (?:new )?(?:e-?book|book|course))\b/i;
/** A question put to the reader: "Are you …?", "Did you …?", "Would you like …?". */
const QUESTION_TO_READER = /^(?:are|do|did|would|will|have|can|could) you\b/i;


interface NumberedLine {
  number: number;
  name: string;
}

function matchTextSection(text: string): NumberedLine | null {
  const match = TEXT_SECTION.exec(text);
  if (!match) return null;
  return { number: Number(match[1]), name: text.slice(match[0].length) };
}

function matchTextPaper(text: string): { section: number; position: number; title: string } | null {
  const match = TEXT_PAPER.exec(text);
  if (!match) return null;
  return { section: Number(match[1]), position: Number(match[2]), title: text.slice(match[0].length) };
}

/**
 * Rule (outro): a call-to-action line is not a link line, and it either names
 * a CTA word (mentoring, subscribe, follow me, newsletter, career, my (new)
 * e-book/book/course) or starts with a question to the reader ("Are you …?").
 */
function isCallToAction(text: string): boolean {
  if (LINK_LINE.test(text)) return false;
  return CALL_TO_ACTION.test(text) || (QUESTION_TO_READER.test(text) && text.includes('?'));
}

/**
 * Rule (outro, text format): take the longest run of lines at the end of the
 * last paper that are all call-to-action or link lines; the outro starts at
 * the first call-to-action line of that run. The paper keeps at least its first
 * line, and link lines before that call to action stay in the summary.
 * Returns the index where the outro starts, or -1.
 */
function findOutroStart(body: SourceLine[]): number {
  let runStart = body.length;
  while (runStart > 1) {
    const text = body[runStart - 1]?.text ?? '';
    if (!LINK_LINE.test(text) && !isCallToAction(text)) break;
    runStart--;
  }
  for (let i = runStart; i < body.length; i++) {
    if (isCallToAction(body[i]?.text ?? '')) return i;
  }
  return -1;
}

/** Rule: "arXiv: 2505.03335" and arxiv.org URL lines set arxivId / url; the lines stay in the summary. */
function extractPaperLinks(paper: PaperDraft): void {
  for (const { text } of paper.body) {
    const label = ARXIV_LABEL_LINE.exec(text);
    if (label && paper.arxivId === null) paper.arxivId = label[1] ?? null;
    const url = ARXIV_URL_LINE.exec(text);
    if (url) {
      if (paper.url === null) paper.url = url[1] ?? null;
      if (paper.arxivId === null) paper.arxivId = url[2] ?? null;
    }
  }
}

/** Text bodies: one paragraph per line. */
function joinTextBody(lines: SourceLine[]): string {
  return lines.map((l) => l.text).join('\n\n');
}

class TextParser {
  private readonly b: IssueBuilder;
  /** Non-blank, trimmed lines. */
  private readonly entries: SourceLine[];
  private readonly tocKeys = new Set<string>();
  private asideKeys = new Set<string>();
  private readonly startedAsides = new Set<string>();

  constructor(
    lines: string[],
    private readonly options: ParseOptions,
  ) {
    this.b = new IssueBuilder(options.strict === true);
    // Rule (text): lines are trimmed; blank lines only separate.
    this.entries = lines.map((text, i) => ({ line: i + 1, text: text.trim() })).filter((e) => e.text !== '');
  }

  private readonly keyCache = new Map<number, string>();
  private readonly sectionKeyCache = new Map<number, string | null>();

  private text(index: number): string {
    return this.entries[index]?.text ?? '';
  }

  /** matchKey of a line, computed once (slugify is linear but lines may be 1 MB). */
  private keyAt(index: number): string {
    let key = this.keyCache.get(index);
    if (key === undefined) {
      key = matchKey(this.text(index));
      this.keyCache.set(index, key);
    }
    return key;
  }

  /** matchKey of the name of a "N. Name" line, or null when the line is not one. */
  private sectionKeyAt(index: number): string | null {
    let key = this.sectionKeyCache.get(index);
    if (key === undefined) {
      const section = matchTextSection(this.text(index));
      key = section ? matchKey(section.name) : null;
      this.sectionKeyCache.set(index, key);
    }
    return key;
  }

  private nextIsPaper(index: number): boolean {
    return TEXT_PAPER.test(this.text(index + 1));
  }

  /** A numbered paper line, or a numbered section line directly followed by a paper. */
  private isNumberedHeading(index: number): boolean {
    const text = this.text(index);
    return TEXT_PAPER.test(text) || (TEXT_SECTION.test(text) && this.nextIsPaper(index));
  }

  parse(): ParseResult {
    const tocIndex = this.entries.findIndex((e) => TEXT_TOC.test(e.text));
    const titleIndex = this.parseTitle(tocIndex);
    let index = this.parseSubtitle(titleIndex + 1);
    index = this.parseIntro(index);
    if (index === tocIndex) index = this.parseTableOfContents(index + 1);
    this.parseBody(index);
    this.detachOutro();
    for (const section of this.b.sections) for (const paper of section.papers) extractPaperLinks(paper);
    const week = resolveWeek({
      title: this.b.title,
      textLines: [this.b.title, ...(this.b.subtitle ? [this.b.subtitle] : []), ...this.b.intro],
      comment: null,
      options: this.options,
      warn: (line, message) => this.b.warn(line, message),
    });
    return this.b.build(joinTextBody, week);
  }

  /**
   * Rule (title): the title is the first line that names a week ("DD/MM to
   * DD/MM" or "for the Week") before the table of contents; without one, the
   * first line. Lines before the title are reported.
   */
  private parseTitle(tocIndex: number): number {
    const searchEnd = tocIndex >= 0 ? tocIndex : this.entries.length;
    let titleIndex = this.entries.slice(0, searchEnd).findIndex((e) => WEEK_RANGE.test(e.text) || FOR_THE_WEEK.test(e.text));
    if (titleIndex < 0) titleIndex = 0;
    if (titleIndex === tocIndex) throw new IssueParseError('STRUCTURE', 'there is no title line before the table of contents', this.entries[0]?.line);
    for (const stray of this.entries.slice(0, titleIndex)) {
      this.b.warn(stray.line, `text before the title is not imported: ${excerpt(stray.text)}`);
    }
    const title = this.entries[titleIndex];
    if (title) this.b.title = title;
    return titleIndex;
  }

  /** Rule (subtitle): the line after the title, unless it is the TOC line or a numbered heading. */
  private parseSubtitle(index: number): number {
    const entry = this.entries[index];
    if (entry && !TEXT_TOC.test(entry.text) && !this.isNumberedHeading(index)) {
      this.b.subtitle = entry;
      return index + 1;
    }
    this.b.warn(this.b.title.line, 'the edition has no subtitle line after the title');
    return index;
  }

  /** Rule (intro): the lines up to "Table of Contents:" (or, without one, up to the first numbered heading). */
  private parseIntro(index: number): number {
    let i = index;
    while (i < this.entries.length && !TEXT_TOC.test(this.text(i)) && !this.isNumberedHeading(i)) {
      const entry = this.entries[i];
      if (entry) this.b.intro.push(entry);
      i++;
    }
    return i;
  }

  /**
   * Rule (TOC): entries are the lines after "Table of Contents:" up to the
   * first numbered heading (a paper line, a section line followed by a paper,
   * or a section line "N. Name" whose Name is already an entry), or up to a
   * line that repeats an entry which is not the name of a numbered section
   * (that repeated line is the heading of an aside: "repeated form"). A
   * repeated section name stays in the TOC (and is reported as a duplicate).
   *
   * Rule (single-line aside form, as in the 2025-05-05 edition): a line that
   * ends like a sentence (. ! ? …, optionally followed by a closing quote or
   * bracket) right after an entry that is not a section name is not an entry:
   * that previous entry is both the last TOC entry and the heading of an
   * aside, and this line starts the aside's body.
   */
  private parseTableOfContents(index: number): number {
    const sectionNameKeys = new Set<string>();
    for (let i = index; i < this.entries.length; i++) {
      const sectionKey = this.sectionKeyAt(i);
      if (sectionKey !== null) sectionNameKeys.add(sectionKey);
    }
    let end = index;
    let bodyStart = -1;
    for (; end < this.entries.length && !this.isNumberedHeading(end); end++) {
      const text = this.text(end);
      const sectionKey = this.sectionKeyAt(end);
      // "N. Name" repeating an entry is the first section heading.
      if (sectionKey !== null && this.tocKeys.has(sectionKey)) break;
      const key = this.keyAt(end);
      if (this.tocKeys.has(key) && !sectionNameKeys.has(key)) break;
      const previous = end > index ? this.keyAt(end - 1) : null;
      if (previous !== null && !sectionNameKeys.has(previous) && SENTENCE_END.test(text)) {
        bodyStart = end - 1;
        break;
      }
      this.tocKeys.add(key);
      const entry = this.entries[end];
      if (entry) this.b.toc.push(entry);
    }
    this.asideKeys = new Set([...this.tocKeys].filter((key) => !sectionNameKeys.has(key)));
    // In the single-line form, body parsing starts at the aside heading itself.
    return bodyStart >= 0 ? bodyStart : end;
  }

  /**
   * Rule (body): a paper heading is "S.P. Title" (the final dot is required, so
   * "3.5 billion" is text). A section heading is "N. Name" when the next line
   * is a paper heading or Name is in the TOC; otherwise it is text, with a
   * warning. A TOC entry that is not a section name starts an aside (once).
   */
  private parseBody(index: number): void {
    for (let i = index; i < this.entries.length; i++) {
      const entry = this.entries[i];
      if (!entry) continue;
      const paper = matchTextPaper(entry.text);
      if (paper) {
        this.b.startPaper(entry.line, paper.section, paper.position, paper.title);
        continue;
      }
      const section = matchTextSection(entry.text);
      if (section && (this.nextIsPaper(i) || this.tocKeys.has(this.sectionKeyAt(i) ?? ''))) {
        this.b.startSection(entry.line, section.number, section.name);
        continue;
      }
      const key = this.asideKeys.size > 0 ? this.keyAt(i) : '';
      if (this.asideKeys.has(key) && !this.startedAsides.has(key)) {
        this.startedAsides.add(key);
        this.b.startAside(entry.line, entry.text);
        continue;
      }
      if (section) {
        this.b.warn(
          entry.line,
          `${excerpt(entry.text)} looks like a section heading but is neither in the table of contents nor followed by a paper; kept as text`,
        );
      }
      this.b.addBodyLine(entry);
    }
  }

  private detachOutro(): void {
    const last = this.b.currentPaper;
    if (!last) return;
    const start = findOutroStart(last.body);
    if (start >= 0) this.b.outro = last.body.splice(start);
  }
}

// ===========================================================================
// Markdown format
// ===========================================================================

const MD_HEADING = /^(#{1,6})(?:[ \t]|$)/;
const MD_TITLE = /^#(?:[ \t]|$)/;
const MD_SECTION = /^##[ \t]+(\d{1,6})\.[ \t]+/;
const MD_PAPER = /^###[ \t]+(\d{1,6})\.(\d{1,6})\.?[ \t]+/;
const MD_TOC_HEADING = /^table of contents:?$/i;
const MD_TOC_ITEM = /^[-*+][ \t]+/;
const MD_OUTRO = /^---[ \t]*$/;
const WRITTEN_NUMBER = /^(\d{1,4})\.(\d{1,4})$/;

/**
 * Markdown bodies: lines are kept verbatim (minus the export escape), blank
 * lines (spaces/tabs only) collapse to one, leading/trailing ones are dropped.
 */
function joinMarkdownBody(lines: SourceLine[]): string {
  const out: string[] = [];
  let pendingBlank = false;
  for (const { text } of lines) {
    if (BLANK.test(text)) {
      pendingBlank = out.length > 0;
      continue;
    }
    if (pendingBlank) out.push('');
    pendingBlank = false;
    out.push(unescapeBodyLine(text));
  }
  return out.join('\n');
}

function parseWeekComment(value: string, line: number, warn: WeekContext['warn']): Week & { line: number } {
  const parts = value.split('..');
  const read = (part: string | undefined): string | null => {
    const text = (part ?? '').trim();
    if (text === UNKNOWN_DATE) return null;
    if (parseIsoDate(text)) return text;
    warn(line, `invalid date ${excerpt(text)} in the week comment; expected YYYY-MM-DD or ${UNKNOWN_DATE}`);
    return null;
  };
  if (parts.length !== 2) {
    warn(line, `the week comment must be "<!-- week: YYYY-MM-DD..YYYY-MM-DD -->", got ${excerpt(value)}`);
    return { start: null, end: null, line };
  }
  return { start: read(parts[0]), end: read(parts[1]), line };
}

class MarkdownParser {
  private readonly b: IssueBuilder;
  private weekComment: (Week & { line: number }) | null = null;

  constructor(
    private readonly lines: string[],
    private readonly options: ParseOptions,
  ) {
    this.b = new IssueBuilder(options.strict === true);
  }

  private line(index: number): string {
    return this.lines[index] ?? '';
  }

  parse(): ParseResult {
    const titleIndex = this.parseTitle();
    const outroIndex = this.findOutroMarker(titleIndex);
    const end = outroIndex >= 0 ? outroIndex : this.lines.length;
    let index = this.parsePreamble(titleIndex + 1, end);
    index = this.parseSubtitle(index, end);
    this.parseBlocks(index, end);
    if (outroIndex >= 0) {
      for (let i = outroIndex + 1; i < this.lines.length; i++) this.b.outro.push({ line: i + 1, text: this.line(i) });
    }
    const textLines = [this.b.title, ...(this.b.subtitle ? [this.b.subtitle] : []), ...this.b.intro];
    const week = resolveWeek({
      title: this.b.title,
      textLines,
      comment: this.weekComment,
      options: this.options,
      warn: (line, message) => this.b.warn(line, message),
    });
    return this.b.build(joinMarkdownBody, week);
  }

  /** Rule (md title): the first "# " line; lines before it are reported; no title is a STRUCTURE error. */
  private parseTitle(): number {
    const titleIndex = this.lines.findIndex((l) => MD_TITLE.test(l));
    if (titleIndex < 0) throw new IssueParseError('STRUCTURE', 'no "# Title" line was found');
    for (let i = 0; i < titleIndex; i++) {
      if (!BLANK.test(this.line(i))) this.b.warn(i + 1, `text before the title is not imported: ${excerpt(this.line(i))}`);
    }
    this.b.title = { line: titleIndex + 1, text: inlineMarkdownToText(this.line(titleIndex).slice(1).trim()) };
    return titleIndex;
  }

  /** Rule (md outro): the first "---" line after the last heading line starts the outro. */
  private findOutroMarker(titleIndex: number): number {
    let lastHeading = titleIndex;
    for (let i = this.lines.length - 1; i > titleIndex; i--) {
      if (MD_HEADING.test(this.line(i))) {
        lastHeading = i;
        break;
      }
    }
    for (let i = lastHeading + 1; i < this.lines.length; i++) {
      if (MD_OUTRO.test(this.line(i))) return i;
    }
    return -1;
  }

  /** Rule (md preamble): `<!-- week: … -->` and `<!-- subtitle: none -->` may follow the title. */
  private parsePreamble(index: number, end: number): number {
    let i = index;
    for (; i < end; i++) {
      const text = this.line(i);
      if (BLANK.test(text)) continue;
      const meta = parseMetaComment(text);
      if (meta?.key === META_WEEK) {
        if (this.weekComment) this.b.warn(i + 1, 'a second week comment replaces the first');
        this.weekComment = parseWeekComment(meta.value, i + 1, (line, message) => this.b.warn(line, message));
      } else if (meta?.key === META_SUBTITLE && meta.value.toLowerCase() === NO_SUBTITLE) {
        this.b.subtitle = { line: i + 1, text: '' };
      } else {
        break;
      }
    }
    return i;
  }

  /** Rule (md subtitle): the first non-blank line after the title and its comments. */
  private parseSubtitle(index: number, end: number): number {
    if (this.b.subtitle) return index;
    const text = this.line(index);
    if (index < end && !MD_HEADING.test(text)) {
      this.b.subtitle = { line: index + 1, text: inlineMarkdownToText(text.trim()) };
      return index + 1;
    }
    this.b.warn(this.b.title.line, 'the edition has no subtitle line after the title');
    return index;
  }

  /**
   * Rule (md blocks): "## Table of Contents" (once, before any aside or
   * section), "## N. Category" sections, "### S.P. Title" papers (the dot
   * after P is optional), any other "## Heading" is an aside. Everything else
   * is body text of the current block.
   */
  private parseBlocks(index: number, end: number): void {
    let inToc = false;
    let tocSeen = false;
    for (let i = index; i < end; i++) {
      const text = this.line(i);
      const heading = MD_HEADING.exec(text)?.[1];
      if (heading === '##') {
        inToc = false;
        const content = text.slice(2).trim();
        const section = MD_SECTION.exec(text);
        const sectionName = section ? text.slice(section[0].length).trim() : '';
        if (!tocSeen && this.b.asides.length === 0 && this.b.sections.length === 0 && MD_TOC_HEADING.test(content)) {
          tocSeen = true;
          inToc = true;
        } else if (section && sectionName !== '') {
          this.b.startSection(i + 1, Number(section[1]), inlineMarkdownToText(sectionName));
        } else {
          this.b.startAside(i + 1, inlineMarkdownToText(content));
        }
        continue;
      }
      const paper = heading === '###' ? MD_PAPER.exec(text) : null;
      const paperTitle = paper ? text.slice(paper[0].length).trim() : '';
      if (paper && paperTitle !== '') {
        inToc = false;
        const draft = this.b.startPaper(i + 1, Number(paper[1]), Number(paper[2]), inlineMarkdownToText(paperTitle));
        if (draft) i = this.parsePaperMeta(draft, i + 1, end);
        continue;
      }
      if (inToc) this.addTocLine(i);
      else this.b.addBodyLine({ line: i + 1, text });
    }
  }

  /** Rule (md TOC): "- entry" items (also "* " and "+ "); other non-blank lines are reported. */
  private addTocLine(index: number): void {
    const text = this.line(index);
    if (BLANK.test(text)) return;
    const item = MD_TOC_ITEM.exec(text);
    const entry = item ? text.slice(item[0].length).trim() : '';
    if (entry === '') {
      this.b.warn(index + 1, `line in the table of contents is not a "- entry" item; not imported: ${excerpt(text)}`);
      return;
    }
    this.b.toc.push({ line: index + 1, text: inlineMarkdownToText(entry) });
  }

  /**
   * Rule (md paper metadata): `<!-- url: … -->`, `<!-- arxiv: … -->` and
   * `<!-- written: S.P -->` lines directly after the paper heading (blank
   * lines allowed), each at most once. Returns the index of the last line consumed.
   */
  private parsePaperMeta(paper: PaperDraft, index: number, end: number): number {
    let lastConsumed = index - 1;
    let writtenSeen = false;
    for (let i = index; i < end; i++) {
      const text = this.line(i);
      if (BLANK.test(text)) continue;
      const meta = parseMetaComment(text);
      if (meta && meta.value !== '' && meta.key === META_URL && paper.url === null) {
        paper.url = meta.value;
      } else if (meta && meta.value !== '' && meta.key === META_ARXIV && paper.arxivId === null) {
        if (!looksLikeArxivId(meta.value)) this.b.warn(i + 1, `${excerpt(meta.value)} does not look like an arXiv id`);
        paper.arxivId = meta.value;
      } else if (meta && meta.value !== '' && meta.key === META_WRITTEN && !writtenSeen) {
        writtenSeen = true;
        this.readWrittenNumber(paper, meta.value, i + 1);
      } else {
        break;
      }
      lastConsumed = i;
    }
    return lastConsumed;
  }

  /**
   * Rule (md written number): `<!-- written: 2.3 -->` records the number an
   * earlier import read for this paper (the exporter writes it). The
   * heading's own number wins when it already differs from the paper's place.
   */
  private readWrittenNumber(paper: PaperDraft, value: string, line: number): void {
    const match = WRITTEN_NUMBER.exec(value);
    if (!match) {
      this.b.warn(line, `${excerpt(value)} is not a paper number like "2.3"; the written-number comment is ignored`);
      return;
    }
    const written = `${Number(match[1])}.${Number(match[2])}`;
    if (paper.numberAsWritten !== null) {
      this.b.warn(line, `the heading already numbers this paper ${paper.numberAsWritten}; the written-number comment is ignored`);
    } else if (written !== paper.number) {
      paper.numberAsWritten = written;
    }
  }
}

// ===========================================================================
// Entry point
// ===========================================================================

/**
 * Parses one edition. Hard errors throw IssueParseError (encoding, NUL,
 * empty input, no structure, numbering in strict mode); everything else that
 * is doubtful is returned as a warning with its 1-based line.
 */
export function parseIssue(input: string | Uint8Array, options: ParseOptions): ParseResult {
  if (options.format !== 'text' && options.format !== 'markdown') {
    throw new TypeError(`options.format must be 'text' or 'markdown', got ${JSON.stringify(options.format)}`);
  }
  const lines = splitLines(decodeInput(input));
  return options.format === 'text' ? new TextParser(lines, options).parse() : new MarkdownParser(lines, options).parse();
}
