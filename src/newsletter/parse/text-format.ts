/**
 * The plain-text format: the edition as it is published (see
 * ../shared/newsletter/). Lines are trimmed; headings are told from text by
 * their numbering, the table of contents and what follows them.
 */
import { ARXIV_LABEL_LINE, ARXIV_URL_LINE } from '../arxiv.js';
import type { ParseOptions, ParseResult } from '../types.js';
import { type PaperDraft, IssueBuilder } from './builder.js';
import { IssueParseError } from './decode.js';
import { type SourceLine, excerpt, matchKey } from './lines.js';
import { WEEK_RANGE, resolveWeek } from './week.js';

const TEXT_SECTION = /^(\d{1,4})\.[ \t\u00a0]+/;
const TEXT_PAPER = /^(\d{1,4})\.(\d{1,4})\.[ \t\u00a0]+/;
const TEXT_TOC = /^table of contents[ \t]*:?$/i;
const FOR_THE_WEEK = /\bfor the week\b/i;
/** Ends like a sentence: . ! ? … optionally followed by one closing quote or bracket. */
const SENTENCE_END = /[.!?…][)\]"'”’»]?$/;

/** "Label: https://…" or a bare URL. */
const LINK_LINE = /^(?:[^:]{1,80}:[ \t]*)?https?:\/\/\S+$/i;
/** Words that mark a call to action of the author rather than paper text. */
const CALL_TO_ACTION =
  /\b(?:mentor(?:s|ing|ship)?|subscribe|follow me|newsletter|career|my (?:new )?(?:e-?book|book|course))\b/i;
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

export class TextParser {
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
    const namesWeek = (e: SourceLine): boolean => WEEK_RANGE.test(e.text) || FOR_THE_WEEK.test(e.text);
    let titleIndex = this.entries.slice(0, searchEnd).findIndex(namesWeek);
    if (titleIndex < 0) titleIndex = 0;
    if (titleIndex === tocIndex) {
      const line = this.entries[0]?.line;
      throw new IssueParseError('STRUCTURE', 'there is no title line before the table of contents', line);
    }
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
          `${excerpt(entry.text)} looks like a section heading but is neither in the table of contents ` +
            'nor followed by a paper; kept as text',
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
