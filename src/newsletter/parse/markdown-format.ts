/**
 * The Markdown format: the export of ../markdown.ts read back, with its
 * `<!-- key: value -->` comments for what the headings cannot carry.
 */
import { looksLikeArxivId } from '../arxiv.js';
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
} from '../markdown.js';
import { parseIsoDate } from '../dates.js';
import type { ParseOptions, ParseResult } from '../types.js';
import { type PaperDraft, IssueBuilder } from './builder.js';
import { IssueParseError } from './decode.js';
import { BLANK, type SourceLine, type Warn, excerpt } from './lines.js';
import { type Week, resolveWeek } from './week.js';

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

function parseWeekComment(value: string, line: number, warn: Warn): Week & { line: number } {
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

export class MarkdownParser {
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
      if (BLANK.test(this.line(i))) continue;
      this.b.warn(i + 1, `text before the title is not imported: ${excerpt(this.line(i))}`);
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
      this.b.warn(
        line,
        `the heading already numbers this paper ${paper.numberAsWritten}; the written-number comment is ignored`,
      );
    } else if (written !== paper.number) {
      paper.numberAsWritten = written;
    }
  }
}
