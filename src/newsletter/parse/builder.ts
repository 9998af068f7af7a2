/**
 * Building the document, shared by both formats: the readers feed it headings
 * and body lines; it numbers sections and papers, checks the numbering and the
 * table of contents, and assembles the IssueDocument with its warnings.
 */
import type { IssueAside, IssueDocument, IssueSection, ParseResult, ParseWarning } from '../types.js';
import { IssueParseError } from './decode.js';
import { BLANK, type SourceLine, excerpt, matchKey } from './lines.js';
import type { Week } from './week.js';

export interface PaperDraft {
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

export class IssueBuilder {
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
    const n = storedNumber;
    const storedAs = n === number ? null : `section ${n} (its papers as ${n}.1, ${n}.2, …)`;
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
    const section: SectionDraft = {
      line,
      number,
      storedNumber,
      categoryName,
      papers: [],
      seenPositions: new Set(),
      lastPosition: 0,
    };
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

  private checkPaperNumber(
    line: number,
    section: SectionDraft,
    sectionNumber: number,
    position: number,
    storedAs: string | null,
  ): void {
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
          const section = target.section.number;
          const text = excerpt(source.text);
          this.warn(source.line, `stray text between the heading of section ${section} and its first paper: ${text}`);
        }
        return;
      case 'orphan':
        if (!BLANK.test(source.text)) {
          this.warn(
            source.line,
            `text of paper ${target.number}, which is outside any section, is not imported: ${excerpt(source.text)}`,
          );
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
        const name = excerpt(section.categoryName);
        this.warn(section.line, `section ${section.number} ${name} is not in the table of contents`);
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
