import damerauLevenshtein from 'damerau-levenshtein';

/**
 * Typo correction against the archive's own vocabulary (text in, structure
 * out: the lexemes and the query's words come from src/db/queries/search.ts).
 * A word of the query that matches no paper is replaced by the lexeme of the
 * archive a reader most likely meant: the fewest edits away (a letter
 * inserted, dropped, changed, or two neighbours swapped: one edit each), then
 * the most common.
 */

/** A lexeme of the papers' search vectors, with the share of papers holding it. */
export interface ArchiveLexeme {
  lexeme: string;
  share: number;
}

/**
 * Edits allowed between a word's lexeme of this many characters and its
 * correction: none below 3, 1 up to 7, 2 from 8. Tighter than search
 * engines' "auto" fuzziness (2 from 6) because a word that matches nothing
 * may be meant (`faithfulness`, stemmed `faith`, is 2 edits from `fair`):
 * the relevance set's unmatched words lost 0.08 of nDCG@10 with 2 from 5.
 */
export function allowedEdits(length: number): number {
  if (length < 3) return 0;
  return length < 8 ? 1 : 2;
}

/**
 * Endings the English (Snowball) stemmer takes off the words of the archive's
 * summaries: a lexeme and one of them spell a word as written (`annot` +
 * `ation`, `regular` + `ization`), which a typo may have kept from stemming
 * (`annotattion` stems to `annotatt`, 3 edits from `annot`, 1 from "annotation").
 */
const ENDINGS = [
  's',
  'es',
  'e',
  'ed',
  'ing',
  'ings',
  'ion',
  'ions',
  'ation',
  'ations',
  'ization',
  'izations',
  'ize',
  'ized',
  'ity',
  'ities',
  'ability',
  'al',
  'ally',
  'ly',
  'ness',
  'ment',
  'ments',
  'er',
  'ers',
  'ive',
  'ies',
  'y',
  'ic',
] as const;

/**
 * The typed word is compared with a lexeme and an ending only from this length, and found there only at exactly one
 * edit: shorter words, or none, are mostly words of their own (`drafter` is one edit from `draft` + `ed`, and
 * `drafter` itself is a lexeme the archive lacks) — the relevance set's unmatched words lost 0.06 of nDCG@10 with 7.
 */
const ENDINGS_MIN_LENGTH = 9;

/**
 * The archive lexemes closest to `lexeme` (the stem of a word that matches
 * nothing), best first: fewest edits within allowedEdits, then the largest
 * share, then alphabetical; at most `max`. None when none is close enough,
 * or when the vocabulary holds the lexeme itself (not a typo). With the word
 * as `typed`, a lexeme is also 1 edit away when the typed word is one edit
 * from the lexeme with one of ENDINGS (words of ENDINGS_MIN_LENGTH or more,
 * beginning as the lexeme does).
 */
export function correctionsOf(
  lexeme: string,
  vocabulary: readonly ArchiveLexeme[],
  max = 3,
  typed?: string,
): ArchiveLexeme[] {
  const allowed = allowedEdits(lexeme.length);
  if (vocabulary.some((v) => v.lexeme === lexeme)) return [];
  const word = typed?.toLowerCase() ?? null;
  // (an English word of letters: a model name's typo, `DeeepSeek-V`, has no stemmer ending to restore)
  const wordAllowed = word !== null && word.length >= ENDINGS_MIN_LENGTH && /^\p{L}+$/u.test(word) ? 1 : 0;
  if (allowed === 0 && wordAllowed === 0) return [];
  const found: Array<{ candidate: ArchiveLexeme; edits: number }> = [];
  for (const candidate of vocabulary) {
    let edits = Number.POSITIVE_INFINITY;
    // (a length difference above the allowance is that many edits at least)
    if (allowed > 0 && Math.abs(candidate.lexeme.length - lexeme.length) <= allowed) {
      const d = damerauLevenshtein(lexeme, candidate.lexeme).steps;
      if (d <= allowed) edits = d;
    }
    // (only lexemes that begin as the word does, its first two letters possibly swapped: ~29 endings for each of
    // ~300 lexemes took 12 ms a word)
    const first = candidate.lexeme[0];
    const sameStart = word !== null && (word[0] === first || (word[1] === first && word[0] === candidate.lexeme[1]));
    if (word !== null && wordAllowed > 0 && edits > 0 && sameStart) {
      for (const ending of ENDINGS) {
        const spelled = candidate.lexeme + ending;
        if (Math.abs(spelled.length - word.length) > wordAllowed) continue;
        const d = damerauLevenshtein(word, spelled).steps;
        if (d === wordAllowed && d < edits) edits = d;
      }
    }
    if (edits !== Number.POSITIVE_INFINITY) found.push({ candidate, edits });
  }
  found.sort(
    (a, b) =>
      a.edits - b.edits ||
      b.candidate.share - a.candidate.share ||
      (a.candidate.lexeme < b.candidate.lexeme ? -1 : a.candidate.lexeme > b.candidate.lexeme ? 1 : 0),
  );
  return found.slice(0, max).map((f) => f.candidate);
}

/** Of `words`, the fewest edits from `typed` (letter case aside), the first on a tie; null when there are none. */
export function closestWord(typed: string, words: readonly string[]): string | null {
  let best: { word: string; edits: number } | null = null;
  for (const word of words) {
    const edits = damerauLevenshtein(typed.toLowerCase(), word.toLowerCase()).steps;
    if (best === null || edits < best.edits) best = { word, edits };
  }
  return best?.word ?? null;
}
