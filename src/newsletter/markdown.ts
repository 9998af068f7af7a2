/**
 * The Markdown export format of an edition (see docs/import-format.md) and the
 * escaping rules shared by the exporter (renderMarkdown) and the importer
 * (parseEdition with format 'markdown').
 *
 * Two kinds of text:
 * - one-line plain-text fields (title, subtitle, TOC entries, aside titles,
 *   category names, paper titles) are escaped with backslashes so that they
 *   show literally (escapeInline / unescapeInline);
 * - Markdown bodies (intro, aside body, summary, outro) are written verbatim,
 *   except that a line which could be mistaken for structure gets one extra
 *   leading backslash (escapeBodyLine / unescapeBodyLine).
 */
import type { EditionDocument, EditionPaper } from './types.js';

export const TOC_HEADING_TEXT = 'Table of Contents';
/** Line that introduces the outro; always the first "---" after the last heading. */
export const OUTRO_MARKER = '---';
/** Metadata comment keys. */
export const META_WEEK = 'week';
export const META_SUBTITLE = 'subtitle';
export const META_URL = 'url';
export const META_ARXIV = 'arxiv';
/** Value of `<!-- subtitle: none -->`, written when the subtitle is empty. */
export const NO_SUBTITLE = 'none';
/** Placeholder for an unknown date in `<!-- week: ?..? -->`. */
export const UNKNOWN_DATE = '?';

// ---------------------------------------------------------------------------
// Inline (one-line plain-text field) escaping
// ---------------------------------------------------------------------------

/** Characters that are always backslash-escaped in one-line fields. */
const ALWAYS_ESCAPED = new Set(['\\', '`', '*', '_', '[', ']', '<', '>', '#', '|', '~']);
/** CommonMark: a backslash before ASCII punctuation makes it literal. */
const BACKSLASH_ESCAPE = /\\([!-/:-@[-`{-~])/g;
const ORDERED_LIST_START = /^(\d{1,9})([.)])/;
const ENTITY_START = /[A-Za-z0-9#]/;

function escapeChars(text: string): string {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    // "&" only matters when it could start an entity ("&amp;", "&#35;").
    const isEntityAmpersand = ch === '&' && ENTITY_START.test(text.charAt(i + 1));
    out.push(ALWAYS_ESCAPED.has(ch) || isEntityAmpersand ? `\\${ch}` : ch);
  }
  return out.join('');
}

/**
 * Escape a one-line plain-text field. With `atLineStart`, also neutralise what
 * would start a block at the beginning of a line: "-", "+", "=" and "12." /
 * "12)" (lists, thematic breaks, setext underlines, section-like "2. X").
 */
export function escapeInline(text: string, atLineStart: boolean): string {
  if (atLineStart) {
    const first = text.charAt(0);
    if (first === '-' || first === '+' || first === '=') return `\\${first}${escapeChars(text.slice(1))}`;
    const ordered = ORDERED_LIST_START.exec(text);
    if (ordered) {
      const [prefix, digits, punctuation] = ordered as unknown as [string, string, string];
      return `${digits}\\${punctuation}${escapeChars(text.slice(prefix.length))}`;
    }
  }
  return escapeChars(text);
}

/** Inverse of escapeInline (and CommonMark backslash escapes in general). */
export function unescapeInline(text: string): string {
  return text.replace(BACKSLASH_ESCAPE, '$1');
}

// ---------------------------------------------------------------------------
// Body line escaping
// ---------------------------------------------------------------------------

/** Lines that the importer could read as structure: headings, the outro marker, metadata comments. */
function looksStructural(line: string): boolean {
  return line.startsWith('#') || line.startsWith('---') || line.startsWith('<!--');
}

function stripLeadingBackslashes(line: string): string {
  let i = 0;
  while (line.charCodeAt(i) === 0x5c) i++;
  return line.slice(i);
}

/**
 * A body line that looks structural once its leading backslashes are removed
 * gets one more leading backslash. This is a bijection, so bodies round-trip
 * exactly, and no exported body line can be taken for structure.
 */
export function escapeBodyLine(line: string): string {
  return looksStructural(stripLeadingBackslashes(line)) ? `\\${line}` : line;
}

/** Inverse of escapeBodyLine: removes the one added backslash. */
export function unescapeBodyLine(line: string): string {
  return line.startsWith('\\') && looksStructural(stripLeadingBackslashes(line)) ? line.slice(1) : line;
}

// ---------------------------------------------------------------------------
// Metadata comments: `<!-- key: value -->` on a line of its own
// ---------------------------------------------------------------------------

export interface MetaComment {
  key: string;
  value: string;
}

/**
 * Parses `<!-- key: value -->` starting in column 0 (trailing spaces allowed),
 * without regular expressions on the value (no backtracking on long lines).
 */
export function parseMetaComment(line: string): MetaComment | null {
  const trimmed = line.trimEnd();
  if (!trimmed.startsWith('<!--') || !trimmed.endsWith('-->') || trimmed.length < 7) return null;
  const inner = trimmed.slice(4, -3);
  const colon = inner.indexOf(':');
  if (colon < 0) return null;
  const key = inner.slice(0, colon).trim().toLowerCase();
  if (!/^[a-z]{1,20}$/.test(key)) return null;
  return { key, value: inner.slice(colon + 1).trim() };
}

/**
 * Metadata values must stay on one line and inside the comment: whitespace,
 * control characters and ">" are percent-encoded (they are never valid in a
 * URL or an arXiv id anyway). Everything else is written as is.
 */
export function encodeMetaValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    const unsafe = ch === '>' || code <= 0x20 || code === 0x7f || /\s/u.test(ch);
    out += unsafe ? encodeURIComponent(ch) : ch;
  }
  return out;
}

function metaLine(key: string, value: string): string {
  return `<!-- ${key}: ${value} -->`;
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

function renderBody(body: string): string[] {
  return body === '' ? [] : body.split('\n').map(escapeBodyLine);
}

function renderPaper(paper: EditionPaper): string[] {
  const lines = [`### ${paper.number}. ${escapeInline(paper.title, false)}`];
  if (paper.url) lines.push(metaLine(META_URL, encodeMetaValue(paper.url)));
  if (paper.arxivId) lines.push(metaLine(META_ARXIV, encodeMetaValue(paper.arxivId)));
  const summary = renderBody(paper.summary);
  return summary.length > 0 ? [...lines, '', ...summary] : lines;
}

/** Blocks are separated by exactly one blank line. */
function joinBlocks(blocks: string[][]): string {
  return `${blocks
    .filter((block) => block.length > 0)
    .map((block) => block.join('\n'))
    .join('\n\n')}\n`;
}

/**
 * Export an edition as Markdown. parseEdition(renderMarkdown(doc), { format:
 * 'markdown' }) gives back `doc` (see docs/import-format.md for the few
 * normalisations), and rendering that again is byte-identical.
 */
export function renderMarkdown(doc: EditionDocument): string {
  const week = `${doc.weekStart ?? UNKNOWN_DATE}..${doc.weekEnd ?? UNKNOWN_DATE}`;
  const blocks: string[][] = [
    [`# ${escapeInline(doc.title, false)}`, metaLine(META_WEEK, week)],
    [doc.subtitle === '' ? metaLine(META_SUBTITLE, NO_SUBTITLE) : escapeInline(doc.subtitle, true)],
    renderBody(doc.intro),
    [`## ${TOC_HEADING_TEXT}`],
    doc.tableOfContents.map((entry) => `- ${escapeInline(entry, true)}`),
  ];
  for (const aside of doc.asides) {
    blocks.push([`## ${escapeInline(aside.title, true)}`], renderBody(aside.body));
  }
  for (const section of doc.sections) {
    blocks.push([`## ${section.number}. ${escapeInline(section.categoryName, false)}`]);
    for (const paper of section.papers) blocks.push(renderPaper(paper));
  }
  if (doc.outro !== '') blocks.push([OUTRO_MARKER], renderBody(doc.outro));
  return joinBlocks(blocks);
}
