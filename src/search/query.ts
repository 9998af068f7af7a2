import type { SearchTerms } from '../db/queries/search.js';
import { SYNONYM_SETS } from './vocabulary.js';

/**
 * A reader's search text as terms (pure: text in, structure out). Web-style
 * syntax, as `websearch_to_tsquery` reads it, one term at a time: words, a
 * `"quoted phrase"`, `-excluded` words or phrases, and `a or b`. Each term
 * that the vocabulary knows (src/search/vocabulary.ts) — a word, a phrase, or
 * consecutive words such as `chain of thought` — also matches its synonyms.
 * The database turns every alternative into a tsquery (English stemming and
 * stop words are PostgreSQL's); see SearchTerms.
 */

interface Item {
  text: string;
  phrase: boolean;
  negated: boolean;
}

/** How a term is looked up in the vocabulary: lower case, hyphens and runs of spaces as one space. */
export const vocabularyKey = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[-\s]+/g, ' ')
    .trim();

const SYNONYMS: ReadonlyMap<string, readonly string[]> = new Map(
  SYNONYM_SETS.flatMap((set) => set.map((term) => [vocabularyKey(term), set] as const)),
);
/** Longest vocabulary term, in words: how far consecutive query words are looked up together. */
const LONGEST_TERM = Math.max(...SYNONYM_SETS.flat().map((t) => vocabularyKey(t).split(' ').length));

/** The other terms of `key`'s set, each as it is searched: one word as is, several as a phrase. */
function synonymsOf(key: string): string[] {
  const set = SYNONYMS.get(key);
  if (!set) return [];
  return set.filter((t) => vocabularyKey(t) !== key).map((t) => (/\s/.test(t) ? `"${t}"` : t));
}

function tokenize(text: string): Item[] {
  const items: Item[] = [];
  for (const m of text.matchAll(/(-?)"([^"]*)"?|(-?)([^\s"]+)/g)) {
    if (m[2] !== undefined) {
      const phrase = m[2].trim();
      if (phrase !== '') items.push({ text: phrase, phrase: true, negated: m[1] === '-' });
    } else if (m[4] !== undefined) {
      items.push({ text: m[4], phrase: false, negated: m[3] === '-' });
    } else if (m[3] === '-') {
      // a lone "-": nothing to exclude
    }
  }
  return items;
}

/** The search terms of a reader's text (see SearchTerms). */
export function parseSearchQuery(text: string): SearchTerms {
  const items = tokenize(text);
  const groups: string[][] = [];
  const excluded: string[] = [];
  const fuzzy: string[] = [];
  let joinNext = false;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.negated) {
      excluded.push(item.phrase ? `"${item.text}"` : item.text);
      continue;
    }
    // `a or b`: b joins a's group (an `or` with nothing positive on one side is a word).
    const next = items[i + 1];
    if (!item.phrase && item.text.toLowerCase() === 'or' && groups.length > 0 && next && !next.negated) {
      joinNext = true;
      continue;
    }
    let alternatives: string[];
    if (item.phrase) {
      alternatives = [`"${item.text}"`, ...synonymsOf(vocabularyKey(item.text))];
      fuzzy.push(item.text);
    } else {
      // The longest run of plain words from here that the vocabulary knows, else the word alone.
      let taken = 1;
      let synonyms: string[] = [];
      for (let n = LONGEST_TERM; n >= 1; n--) {
        const run = items.slice(i, i + n);
        if (run.length < n || run.some((r) => r.phrase || r.negated)) continue;
        const found = synonymsOf(vocabularyKey(run.map((r) => r.text).join(' ')));
        if (found.length > 0) {
          taken = n;
          synonyms = found;
          break;
        }
      }
      const words = items.slice(i, i + taken).map((r) => r.text);
      alternatives = [words.join(' '), ...synonyms];
      fuzzy.push(...words);
      i += taken - 1;
    }
    if (joinNext && groups.length > 0) groups[groups.length - 1]!.push(...alternatives);
    else groups.push(alternatives);
    joinNext = false;
  }
  return {
    groups,
    excluded,
    fuzzy: fuzzy
      .filter((w) => w.toLowerCase() !== 'or')
      .join(' ')
      .slice(0, 200),
    phrase: items.some((i) => i.phrase && !i.negated),
  };
}
