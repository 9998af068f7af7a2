/**
 * Which paper of a re-imported edition is which paper already stored, so
 * that `import --replace` keeps their ids (docs/import-format.md, "Replacing
 * an edition"). Pure: no database.
 */
import { parseArxivIdentifier } from './arxiv.js';

export interface MatchablePaper {
  /** Stored number "S.P" (for new papers: the number they will be stored under). */
  number: string;
  title: string;
  arxivId: string | null;
}

const PUNCTUATION_OR_SYMBOL = /[\p{P}\p{S}]+/gu;
const WHITESPACE = /\s+/gu;

/**
 * A title compared without case, punctuation or symbols and with whitespace
 * collapsed: "RM-R1: Reward  Modeling" and "rm r1 reward modeling" are the
 * same. A title of nothing but punctuation is compared as written (lower-cased).
 */
export function titleKey(title: string): string {
  const key = title.normalize('NFKC').toLowerCase().replace(PUNCTUATION_OR_SYMBOL, ' ').replace(WHITESPACE, ' ').trim();
  return key === '' ? `=${title.trim().toLowerCase()}` : key;
}

/**
 * An arXiv id compared in its stored form (no version) and without case; a
 * value that is no arXiv id (the Markdown format keeps those) is compared as written.
 */
function arxivKey(id: string | null): string | null {
  const written = id?.trim() ?? '';
  if (written === '') return null;
  return (parseArxivIdentifier(written) ?? written).toLowerCase();
}

/**
 * For each incoming paper, the id of the existing paper it is (or null: a
 * new paper). Three rounds over all papers, each existing paper used at most
 * once, earlier numbers first: (1) the same arXiv id, when both have one;
 * (2) the same number and the same title; (3) the same title anywhere in the
 * edition. A round only considers papers the earlier rounds left unmatched.
 */
export function matchPapers(
  existing: ReadonlyArray<MatchablePaper & { id: number }>,
  incoming: readonly MatchablePaper[],
): Array<number | null> {
  const result: Array<number | null> = incoming.map(() => null);
  const used = new Set<number>();
  const rounds: Array<(p: MatchablePaper) => string | null> = [
    (p) => arxivKey(p.arxivId),
    (p) => `${p.number}\u0000${titleKey(p.title)}`,
    (p) => titleKey(p.title),
  ];
  for (const keyOf of rounds) {
    const candidates = new Map<string, number[]>();
    for (const e of existing) {
      const key = used.has(e.id) ? null : keyOf(e);
      if (key === null) continue;
      const ids = candidates.get(key);
      if (ids) ids.push(e.id);
      else candidates.set(key, [e.id]);
    }
    incoming.forEach((p, i) => {
      if (result[i] !== null) return;
      const key = keyOf(p);
      // (each id is in one list of a round, so taking it from the front keeps it used once)
      const id = key === null ? undefined : candidates.get(key)?.shift();
      if (id === undefined) return;
      result[i] = id;
      used.add(id);
    });
  }
  return result;
}
