import { MARK_END, MARK_START, type SearchHit, type SearchMode, fuzzyWords } from '../db/queries/search.js';

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
 * indices of that fragment. Marked words separated by spaces only (a phrase)
 * make one highlight.
 */
export function parseHeadline(marked: string): { fragment: string; highlights: Highlight[] } {
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
        if (last && /^[ \t]+$/.test(fragment.slice(last.end, open))) last.end = fragment.length;
        else highlights.push({ start: open, end: fragment.length });
      }
      open = -1;
    } else {
      fragment += ch;
    }
  }
  return { fragment, highlights };
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
export function similarWordRanges(text: string, query: string): Highlight[] {
  const wanted = fuzzyWords(query)
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
export function textMatches(hit: SearchHit, mode: SearchMode, query: string): TextMatchShape[] {
  const out: TextMatchShape[] = [];
  // (no headlines: the page was read without them, see SearchArgs.headlines)
  if (hit.titleHeadline === null || hit.summaryHeadline === null) return out;
  const title = parseHeadline(hit.titleHeadline);
  const titleRanges =
    mode === 'fuzzy'
      ? mergeRanges([...title.highlights, ...similarWordRanges(title.fragment, query)])
      : title.highlights;
  if (titleRanges.length > 0) out.push({ field: 'TITLE', fragment: title.fragment, highlights: titleRanges });
  const summary = parseHeadline(hit.summaryHeadline);
  if (summary.highlights.length > 0) {
    out.push({ field: 'SUMMARY', fragment: summary.fragment, highlights: summary.highlights });
  }
  return out;
}
