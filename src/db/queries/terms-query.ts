/**
 * The query of the terms index (pure: tsquery text in, tsquery text out).
 *
 * `papers_terms_idx` indexes `llmp_terms(search_vector)`: every lexeme of a paper, and every pair of lexemes at
 * adjacent positions as one term (`'languag model'`, migrations/0012_search_terms.sql). A phrase's words are in most
 * papers of a large archive while the phrase is in few: the search vector's index hands over every paper holding
 * the words, and each is read to check the phrase (`"vision language model" workflows`, 1 M papers: 24 257 read for
 * 4 973 matches). Its adjacent pairs are in far fewer, so the terms index reads about the matches.
 *
 * A match of the query's tsquery must hold what `termsQuery` asks for: each phrase step `'a' <-> 'b'` (adjacent
 * positions, in the search vector the pair is made from) is the pair `'a b'`; each other lexeme itself. It asks
 * no more than that — the statement checks the query itself on every paper the index hands over — and it is
 * built only from what it can read: an alternative whose tree holds anything but lexemes, `&`, `<->` and `<N>`
 * (an `|`, a `!`, parentheses, weights, prefixes) leaves its group out.
 */

/** The longest pair the index holds, in bytes (llmp_terms; a tsquery's operand may have 2 047). */
export const PAIR_MAX_BYTES = 2046;

/** A lexeme as the tsquery's text writes it: quoted, `'` doubled, `\` escaped. */
const LEXEME = String.raw`'(?:[^'\\]|''|\\.)*'`;
const TOKEN = new RegExp(String.raw`\s*(?:(${LEXEME})|(<->)|(<\d+>)|(&))`, 'y');

/**
 * The terms an alternative's tsquery text (`websearch_to_tsquery(...)::text`) requires, as tsquery text (`&` of
 * quoted terms), whether it holds a pair; null when its tree is not only lexemes, `&` and phrase steps. A stop-word
 * only alternative ('') requires nothing: ''.
 */
export function alternativeTerms(tree: string): { query: string; pairs: number } | null {
  const lexemes: string[] = [];
  const steps: Array<'and' | 'next' | 'gap'> = [];
  TOKEN.lastIndex = 0;
  let expectLexeme = true;
  while (TOKEN.lastIndex < tree.length) {
    if (/^\s*$/.test(tree.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(tree);
    if (!m || TOKEN.lastIndex === at) return null;
    if (m[1] !== undefined) {
      if (!expectLexeme) return null;
      lexemes.push(m[1]);
      expectLexeme = false;
    } else {
      if (expectLexeme) return null;
      steps.push(m[2] !== undefined ? 'next' : m[3] !== undefined ? 'gap' : 'and');
      expectLexeme = true;
    }
  }
  if (lexemes.length === 0) return steps.length === 0 ? { query: '', pairs: 0 } : null;
  if (expectLexeme) return null;
  // (a lexeme in a pair needs no term of its own: the pair holds it)
  const inPair = new Set<number>();
  const terms: string[] = [];
  steps.forEach((step, i) => {
    const pair = `${lexemes[i]!.slice(1, -1)} ${lexemes[i + 1]!.slice(1, -1)}`;
    // (the index leaves out pairs longer than PAIR_MAX_BYTES; an escaped pair is at least as long as it)
    if (step !== 'next' || Buffer.byteLength(pair) > PAIR_MAX_BYTES) return;
    terms.push(`'${pair}'`);
    inPair.add(i).add(i + 1);
  });
  const pairs = terms.length;
  lexemes.forEach((l, i) => {
    if (!inPair.has(i)) terms.push(l);
  });
  return { query: [...new Set(terms)].join(' & '), pairs };
}

/**
 * The terms index's query for a search's groups (each a list of its alternatives' tsquery texts): every group
 * whose alternatives can all be read, as the `|` of what each requires, the groups joined by `&`; null when no
 * alternative holds a pair (the search vector's own index serves such a query as well) or no group can be read.
 */
export function termsQuery(groups: readonly (readonly string[])[]): string | null {
  let pairs = 0;
  const parts: string[] = [];
  for (const alternatives of groups) {
    const each = alternatives.map(alternativeTerms);
    if (each.some((a) => a === null || a.query === '')) continue;
    pairs += each.reduce((n, a) => n + a!.pairs, 0);
    const unique = [...new Set(each.map((a) => a!.query))];
    parts.push(unique.length === 1 ? `( ${unique[0]} )` : `( ${unique.map((q) => `( ${q} )`).join(' | ')} )`);
  }
  return pairs > 0 && parts.length > 0 ? parts.join(' & ') : null;
}
