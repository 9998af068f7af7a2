/**
 * The Markdown export format of an edition (see docs/import-format.md) and the
 * escaping rules shared by the exporter (renderMarkdown) and the importer
 * (parseIssue with format 'markdown').
 *
 * Two kinds of text:
 * - one-line plain-text fields (title, subtitle, TOC entries, aside titles,
 *   category names, paper titles) are escaped with backslashes so that they
 *   show literally (escapeInline / unescapeInline);
 * - Markdown bodies (intro, aside body, summary, outro) are written verbatim,
 *   except that a line which could be mistaken for structure gets one extra
 *   leading backslash (escapeBodyLine / unescapeBodyLine).
 */
import { Lexer, type Token, Tokenizer, type Tokens, getDefaults } from 'marked';
import type { IssueDocument, IssuePaper } from './types.js';

export const TOC_HEADING_TEXT = 'Table of Contents';
/** Line that introduces the outro; always the first "---" after the last heading. */
export const OUTRO_MARKER = '---';
/** Metadata comment keys. */
export const META_WEEK = 'week';
export const META_SUBTITLE = 'subtitle';
export const META_URL = 'url';
export const META_ARXIV = 'arxiv';
/** The number an import read for a paper, when it differs from its stored number (a numbering gap). */
export const META_WRITTEN = 'written';
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
// Inline Markdown → plain text (one-line fields of a Markdown import)
// ---------------------------------------------------------------------------

/** Characters without which a line has no inline Markdown to read (most titles). */
const INLINE_SYNTAX = /[\\`*_[\]<>&~]/;
/**
 * marked's emphasis and link matching grows quadratically with the number of
 * delimiters on hostile lines ("*a*a*a…"), so only fields up to this length,
 * with up to this many unescaped delimiters (* _ ~ [), are read as Markdown;
 * the others get the backslash escapes removed only. The exporter escapes
 * every delimiter, so exports still round-trip exactly.
 */
export const INLINE_MARKDOWN_MAX_LENGTH = 1000;
export const INLINE_MARKDOWN_MAX_DELIMITERS = 64;

/** Whether a one-line field is short and plain enough to be read as inline Markdown quickly. */
function readableAsMarkdown(markdown: string): boolean {
  if (markdown.length > INLINE_MARKDOWN_MAX_LENGTH) return false;
  let delimiters = 0;
  for (let i = 0; i < markdown.length; i++) {
    const ch = markdown.charAt(i);
    if (ch === '\\') i++;
    else if ((ch === '*' || ch === '_' || ch === '~' || ch === '[') && ++delimiters > INLINE_MARKDOWN_MAX_DELIMITERS)
      return false;
  }
  return true;
}

/**
 * GFM without its bare-URL autolinks: a bare URL shows as the text it is
 * anyway, but as an autolink it would swallow the backslash escapes the
 * exporter puts into it ("https://x.org/a\\_b").
 */
class OneLineTokenizer extends Tokenizer {
  override url(): undefined {
    return undefined;
  }
}
/** Our own options: nothing another module may have set with marked.use(). */
const INLINE_LEXER_OPTIONS = {
  ...getDefaults(),
  gfm: true,
  breaks: false,
  pedantic: false,
  tokenizer: new OneLineTokenizer(),
};

/** Named character references understood in one-line fields (others stay as written). */
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  middot: '·',
  bull: '•',
  times: '×',
  divide: '÷',
  deg: '°',
  plusmn: '±',
  minus: '−',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  para: '¶',
  shy: '\u00ad',
  thinsp: '\u2009',
  ensp: '\u2002',
  emsp: '\u2003',
  zwj: '\u200d',
  zwnj: '\u200c',
  larr: '←',
  rarr: '→',
  harr: '↔',
  le: '≤',
  ge: '≥',
  ne: '≠',
  asymp: '≈',
  infin: '∞',
  alpha: 'α',
  beta: 'β',
  gamma: 'γ',
  delta: 'δ',
  epsilon: 'ε',
  theta: 'θ',
  lambda: 'λ',
  mu: 'μ',
  pi: 'π',
  sigma: 'σ',
  tau: 'τ',
  phi: 'φ',
  omega: 'ω',
};
const CHARACTER_REFERENCE = /&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([A-Za-z][A-Za-z0-9]{1,31}));/g;

/** CommonMark character references: numeric ones, and the named ones above. */
export function decodeCharacterReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARACTER_REFERENCE, (whole, hex?: string, dec?: string, name?: string) => {
    if (name !== undefined) return NAMED_ENTITIES[name] ?? whole;
    const code = hex !== undefined ? Number.parseInt(hex, 16) : Number(dec);
    const invalid = code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff);
    return invalid ? '\ufffd' : String.fromCodePoint(code);
  });
}

/** The text a reader sees for inline tokens: markup dropped, links and images by their text. */
function tokensToText(tokens: readonly Token[]): string {
  let out = '';
  for (const token of tokens) out += tokenToText(token);
  return out;
}

function tokenToText(token: Token): string {
  switch (token.type) {
    case 'escape':
      return (token as Tokens.Escape).text;
    case 'text':
      // `raw`: marked's `text` is already HTML-escaped.
      return decodeCharacterReferences(token.raw);
    case 'codespan':
      return (token as Tokens.Codespan).text;
    case 'br':
      return ' ';
    case 'html':
      // A tag in a title is text the editor typed, not markup to drop.
      return token.raw;
    case 'link':
      // "<https://…>" shows its URL as written; [text](url) shows its text.
      return (token as Tokens.Link).autolink ? (token as Tokens.Link).text : tokensToText(token.tokens ?? []);
    default: {
      // em, strong, del, image (its alt text), and anything else with children.
      const children = (token as Tokens.Generic).tokens;
      return children ? tokensToText(children) : token.raw;
    }
  }
}

/**
 * A one-line field of a Markdown import as plain text: inline Markdown is
 * read (emphasis, strong, code spans, links → their text, backslash escapes,
 * character references) and the markup dropped. The inverse of escapeInline.
 */
export function inlineMarkdownToText(markdown: string): string {
  if (!INLINE_SYNTAX.test(markdown)) return markdown;
  if (!readableAsMarkdown(markdown)) return unescapeInline(markdown);
  return tokensToText(Lexer.lexInline(markdown, INLINE_LEXER_OPTIONS)).trim();
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

function renderPaper(paper: IssuePaper): string[] {
  const lines = [`### ${paper.number}. ${escapeInline(paper.title, false)}`];
  if (paper.url) lines.push(metaLine(META_URL, encodeMetaValue(paper.url)));
  if (paper.arxivId) lines.push(metaLine(META_ARXIV, encodeMetaValue(paper.arxivId)));
  if (paper.numberAsWritten) lines.push(metaLine(META_WRITTEN, encodeMetaValue(paper.numberAsWritten)));
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
 * Export an edition as Markdown. parseIssue(renderMarkdown(doc), { format:
 * 'markdown' }) gives back `doc` (see docs/import-format.md for the few
 * normalisations), and rendering that again is byte-identical.
 */
export function renderMarkdown(doc: IssueDocument): string {
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
