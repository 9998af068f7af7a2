import { MARK_END, MARK_START, type SearchHit, type SearchMode, type SearchTerms } from '../db/queries/search.js';

/** Text matches: fragments of a paper's fields with the offsets of the matched words. */

export type TextMatchFieldValue = 'TITLE' | 'SUMMARY';

export interface Highlight {
  start: number;
  end: number;
}

export interface TextMatchShape {
  field: TextMatchFieldValue;
  fragment: string;
  highlights: Highlight[];
}

/**
 * Strips the markers of `ts_headline` output and returns the plain fragment
 * with the [start, end) offsets of the marked words, in JS string (UTF-16)
 * indices of that fragment. Marked words separated by spaces only make one
 * highlight; with `phrase`, also those separated by one short unmarked word
 * (a stop word inside a phrase: "chain of thought" is one highlight).
 */
export function parseHeadline(marked: string, phrase = false): { fragment: string; highlights: Highlight[] } {
  let fragment = '';
  const highlights: Highlight[] = [];
  let open = -1;
  for (const ch of marked) {
    if (ch === MARK_START) {
      open = fragment.length;
    } else if (ch === MARK_END) {
      if (open >= 0 && fragment.length > open) {
        const last = highlights[highlights.length - 1];
        // Words of one phrase ("chain of thought") become one highlight.
        const gap = last ? fragment.slice(last.end, open) : '';
        if (last && (/^[ \t]+$/.test(gap) || (phrase && SHORT_GAP.test(gap)))) last.end = fragment.length;
        else highlights.push({ start: open, end: fragment.length });
      }
      open = -1;
    } else {
      fragment += ch;
    }
  }
  return { fragment, highlights };
}

/** Between two words of a phrase: spaces or hyphens around one word of at most four letters ("of", "the", "to"). */
const SHORT_GAP = /^[\s-]+\p{L}{1,4}[\s-]+$/u;

/** How ts_headline joins the fragments of a summary (SUMMARY_HEADLINE_OPTIONS' FragmentDelimiter). */
const FRAGMENT_DELIMITER = ' … ';

const squeeze = (text: string) => text.replace(/\s+/g, ' ').trim();
/** What ts_headline leaves off a fragment's ends when the fragment is not cut there: punctuation and up to three short words. */
const LEFT_OFF = /^[\s\p{P}]*(?:[\p{L}\p{N}]{1,4}[\s\p{P}]+){0,3}[\p{L}\p{N}]{0,4}[\s\p{P}]*$/u;
const PROBE = 24;

/**
 * How a fragment relates to one end of the summary: `''` when it reaches that
 * end (or misses only what LEFT_OFF allows, which `rest` then gives back),
 * else an ellipsis. `edge` is the summary's first (`start`) or last characters.
 */
function atEdge(piece: string, edge: string, side: 'start' | 'end'): { rest: string; cut: boolean } {
  const p = squeeze(piece);
  const e = squeeze(edge);
  if (side === 'start') {
    const at = e.indexOf(p.slice(0, PROBE));
    if (at < 0) return { rest: '', cut: true };
    const before = e.slice(0, at);
    return LEFT_OFF.test(before) ? { rest: before, cut: false } : { rest: '', cut: true };
  }
  const probe = p.slice(-PROBE);
  const at = e.lastIndexOf(probe);
  if (at < 0) return { rest: '', cut: true };
  const after = e.slice(at + probe.length);
  return LEFT_OFF.test(after) ? { rest: after, cut: false } : { rest: '', cut: true };
}

/**
 * A summary fragment as a reader expects it: "… " before it when it starts
 * inside the summary, " …" after it when it ends inside; when ts_headline
 * only left off a few short words or the final punctuation, they are put
 * back instead. `edges`: the summary's first and last characters. Highlights
 * move with the text.
 */
export function withEllipses(
  edges: { head: string; tail: string },
  parsed: { fragment: string; highlights: Highlight[] },
): { fragment: string; highlights: Highlight[] } {
  const pieces = parsed.fragment.split(FRAGMENT_DELIMITER);
  const start = atEdge(pieces[0] ?? '', edges.head, 'start');
  const end = atEdge(pieces[pieces.length - 1] ?? '', edges.tail, 'end');
  const head = start.cut ? '… ' : start.rest;
  const tail = end.cut ? ' …' : end.rest;
  if (head === '' && tail === '') return parsed;
  return {
    fragment: `${head}${parsed.fragment}${tail}`,
    highlights: parsed.highlights.map((h) => ({ start: h.start + head.length, end: h.end + head.length })),
  };
}

/** Trigrams of a word the way pg_trgm makes them: lower case, padded with two spaces before and one after. */
function trigrams(word: string): Set<string> {
  const padded = `  ${word.toLowerCase()} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3));
  return out;
}

function similarity(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const t of a) if (b.has(t)) shared++;
  return shared / (a.size + b.size - shared || 1);
}

/** Words of `text` that look like one of the query words (trigram similarity ≥ 0.3), for typo matches. */
export function similarWordRanges(text: string, words: string): Highlight[] {
  const wanted = words
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 2)
    .map(trigrams);
  if (wanted.length === 0) return [];
  const out: Highlight[] = [];
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const grams = trigrams(m[0]);
    if (wanted.some((w) => similarity(w, grams) >= 0.3)) out.push({ start: m.index, end: m.index + m[0].length });
  }
  return out;
}

function mergeRanges(ranges: Highlight[]): Highlight[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Highlight[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start < last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/**
 * Where a hit matched: its title and summary fragments with highlights (a field without any is left out).
 * Typo matches (fuzzy mode) mark the title's words that look like a query word too: the full-text markers
 * alone miss them.
 */
export function textMatches(hit: SearchHit, mode: SearchMode, terms: SearchTerms): TextMatchShape[] {
  const out: TextMatchShape[] = [];
  // (no headlines: the page was read without them, see SearchArgs.headlines)
  if (hit.titleHeadline === null || hit.summaryHeadline === null) return out;
  const title = parseHeadline(hit.titleHeadline, terms.phrase);
  const titleRanges =
    mode === 'fuzzy' && !terms.phrase
      ? mergeRanges([...title.highlights, ...similarWordRanges(title.fragment, terms.fuzzy)])
      : title.highlights;
  if (titleRanges.length > 0) out.push({ field: 'TITLE', fragment: title.fragment, highlights: titleRanges });
  const summary = withEllipses(
    { head: hit.summaryHead ?? '', tail: hit.summaryTail ?? '' },
    parseHeadline(hit.summaryHeadline, terms.phrase),
  );
  if (summary.highlights.length > 0) {
    out.push({ field: 'SUMMARY', fragment: summary.fragment, highlights: summary.highlights });
  }
  return out;
}
