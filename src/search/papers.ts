import { hash } from 'node:crypto';
import type { Db } from '../db/client.js';
import type { PaperFilterArgs, PaperKey, Visibility } from '../db/queries/fragments.js';
import {
  type SearchHit,
  type SearchMode,
  type SearchOrder,
  type SearchTerms,
  EXACT_RANK_BOUND,
  PAIR_BOTH_IN_TITLE_MAX,
  RELEVANCE_CANDIDATES,
  type SearchArgs,
  type QueryAnalysis,
  type SearchCounts,
  analyzeQuery,
  commonLexemes,
  searchableWords,
  writtenWords,
  estimateRanking,
  scopeMaxScoreOutside,
  fewMatches,
  paperByArxivId,
  relevanceWindow,
  searchCounts,
  searchPageCounted,
  titlePairPage,
  titlePhrasePage,
  titleTermsPage,
  unmatchedLexemes,
} from '../db/queries/search.js';
import type { IssueMode } from '../db/read-model/issue.js';
import type { PaperRow } from '../db/schema.js';
import { userInputError } from '../graphql/errors.js';
import { type CursorCodec, type Window, encodeCursor, isIsoDate, windowFromArgs } from '../graphql/pagination.js';
import { type TextMatchShape, textMatches } from './highlights.js';
import { PLAN_TTL_MS, remembered } from './plan-cache.js';
import { parseArxivIdentifier } from '../newsletter/arxiv.js';
import { parseSearchQuery } from './query.js';
import { closestWord, correctionsOf } from './typos.js';

/**
 * Paper search: the steps between the arguments of `Query.searchPapers` and a
 * page of results (the SQL is src/db/queries/search.ts's): check the text,
 * parse it into terms (with the vocabulary's synonyms), read a page matching
 * every term; when that finds nothing, relax: the query with its words that
 * match no paper corrected against the archive's vocabulary (typos), else
 * papers matching some of the terms, or with a title similar to the words,
 * best first; then edges with cursors and text matches;
 * the facets (and totalCount) only when asked for.
 */

/** Longest accepted search text, in characters. */
export const MAX_QUERY_LENGTH = 500;

export interface SearchEdge {
  cursor: string;
  node: PaperRow;
  score: number;
  matches: TextMatchShape[];
}

export interface SearchResults {
  edges: SearchEdge[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** The number of matches and matches per category, most first (exact up to EXACT_COUNT_BOUND); one statement, run once, when first called. */
  counts: () => Promise<SearchCounts>;
  /** The reader's text with its typos corrected, when the results are those of the corrected query (or its partial matches), else null; one statement, run once, when first called. */
  correctedQuery: () => Promise<string | null>;
  /** Whether nothing matched every term, so the results are those of the query with its typos corrected, or match some of the terms, or have similar titles. */
  relaxed: boolean;
  /** Whether RELEVANCE ranked every match (false: more than EXACT_RANK_BOUND, the most recent RELEVANCE_CANDIDATES ranked); NEWEST is always exact. */
  exhaustive: boolean;
}

export interface SearchRequest {
  /** The search text, as `checkSearchText` returns it. */
  query: string;
  first?: number | null;
  after?: string | null;
  filter: PaperFilterArgs | undefined;
  order: SearchOrder;
  /** Whether the edges' text matches are wanted (default true; without them the statement skips the headlines). */
  matches?: boolean;
  /** Which of its edition's columns each paper carries (what is selected below `issue`); default none. */
  issues?: IssueMode;
}

export interface SearchDeps {
  db: Db;
  visibility: Visibility;
  /** Told about every paper of the page (the request's loaders prime their cache with it). */
  onPaper?: (paper: PaperRow) => void;
}

// Cursors: tagged with the search they belong to and the mode it ran in.
/**
 * How a page was read, as its cursors carry it: `text` (every term), `corrected` (the query with its typos
 * corrected, in text mode), `fuzzy` (some of the terms, or similar titles): the next page is read the same way.
 */
type CursorMode = SearchMode | 'corrected';
type SearchCursor = [CursorMode, ...(number | string)[]];

const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 2_147_483_647;
const isPos = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 999;

function searchCodec(query: string, filter: unknown, order: SearchOrder): CursorCodec<SearchCursor> {
  // crypto.hash, one call: a Hash object per search request cost ~30 µs of its CPU (a profile of Q3)
  const tag = hash('sha256', JSON.stringify([query, filter ?? null, order]), 'base64url').slice(0, 10);
  return {
    kind: `search:${tag}`,
    validate: (v) => {
      if (!Array.isArray(v) || (v[0] !== 'text' && v[0] !== 'fuzzy' && v[0] !== 'corrected')) return null;
      if (order === 'RELEVANCE') {
        const score = v[1];
        const valid =
          v.length === 3 && typeof score === 'number' && Number.isFinite(score) && score >= 0 && score < 1e6;
        return valid && isId(v[2]) ? [v[0], score, v[2]] : null;
      }
      const valid = v.length === 5 && isIsoDate(v[1]) && isId(v[2]) && isPos(v[3]) && isPos(v[4]);
      return valid ? [v[0], v[1], v[2], v[3], v[4]] : null;
    },
  };
}

/** Checks the search text before any SQL: not empty, not too long, no NUL. */
export function checkSearchText(query: string): string {
  if (query.includes('\u0000')) throw userInputError('`query` must not contain NUL characters', 'query');
  if (query.length > MAX_QUERY_LENGTH) {
    const message = `\`query\` is too long: at most ${MAX_QUERY_LENGTH} characters (got ${query.length})`;
    throw userInputError(message, 'query');
  }
  const trimmed = query.trim();
  if (trimmed === '') throw userInputError('`query` must not be empty', 'query');
  return trimmed;
}

const noResults = (): SearchResults => ({
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  counts: async () => ({ total: 0, exact: true, facets: [] }),
  correctedQuery: async () => null,
  relaxed: false,
  exhaustive: true,
});

interface Plan {
  query: string;
  terms: SearchTerms;
  filter: PaperFilterArgs | undefined;
  order: SearchOrder;
  codec: CursorCodec<SearchCursor>;
  window: Window<SearchCursor>;
  matches: boolean;
  /** The query's one lexeme when it is one word, its phrase's lexemes when it is one quoted phrase (analyzeQuery). */
  fast: FastPath;
  /** SearchRequest.issues. */
  issues?: IssueMode;
}

/** What a first page may be read from without scoring every title match (analyzeQuery). */
type FastPath = Pick<QueryAnalysis, 'lexeme' | 'phraseLexemes' | 'pairLexemes' | 'termsQuery' | 'rankBound'>;
const NO_FAST_PATH: FastPath = {
  lexeme: null,
  phraseLexemes: null,
  pairLexemes: null,
  termsQuery: null,
  rankBound: null,
};

/** The rows of one page (one more than its size, to tell whether there is a next), the mode that found them and what they match. */
interface PageRead {
  rows: SearchHit[];
  /** The mode the cursors carry (relaxed unless `text`). */
  mode: CursorMode;
  exhaustive: boolean;
  /** The terms the rows match, and how (highlights and counts follow them): the query's, or its typo corrections in text mode. */
  terms: SearchTerms;
  matchMode: SearchMode;
  /** Text mode: the terms index's query for `terms` (QueryAnalysis.termsQuery), for the counts. */
  termsQuery?: string | null;
  /** The words corrected (typos), when the terms are the corrected ones. */
  fixes?: Fix[];
}

/** A typo corrected: the word as the reader wrote it, the archive's lexeme it became, and the word searched for it. */
interface Fix {
  typed: string;
  lexeme: string;
  word: string;
}

async function readPage(db: Db, vis: Visibility, plan: Plan): Promise<PageRead> {
  const { query, terms, filter, order, window, matches, issues } = plan;
  const cursorKey = window.cursor ? (window.cursor.slice(1) as [number, number] | PaperKey) : null;
  const mode: CursorMode = window.cursor?.[0] ?? 'text';
  const planKey = JSON.stringify([query, filter ?? null]);
  const base = { terms, filter, order, cursor: cursorKey, headlines: matches, limit: window.limit, issues };
  if (mode === 'text') {
    const page = await textPage(db, vis, {
      base: { ...base, termsQuery: plan.fast.termsQuery },
      planKey,
      fast: plan.fast,
    });
    if (page.rows.length > 0 || window.cursor)
      return { ...page, mode, terms, matchMode: 'text', termsQuery: plan.fast.termsQuery };
  }
  // Nothing matches every term: relax. First the words that match no paper corrected against the
  // archive's vocabulary (typos): when that query finds papers, its pages, ranked as any query's.
  const corrected = await remembered(db, `correct ${query}`, PLAN_TTL_MS, () => correctedTerms(db, terms));
  if (corrected && mode !== 'fuzzy') {
    const correctedKey = JSON.stringify([corrected.terms.groups, filter ?? null]);
    const analysis = await remembered(db, `parse ${correctedKey}`, Number.POSITIVE_INFINITY, () =>
      analyzeQuery(db, corrected.terms),
    );
    const page = await textPage(db, vis, {
      base: { ...base, terms: corrected.terms, termsQuery: analysis.termsQuery },
      planKey: correctedKey,
      fast: analysis,
    });
    if (page.rows.length > 0 || window.cursor) {
      return {
        ...page,
        mode: 'corrected',
        terms: corrected.terms,
        matchMode: 'text',
        fixes: corrected.fixes,
        termsQuery: analysis.termsQuery,
      };
    }
  } else if (!corrected && mode === 'corrected') {
    // (the archive's vocabulary changed since the previous page: nothing more to read that way)
    return { rows: [], mode, exhaustive: true, terms, matchMode: 'text' };
  }
  // Else the papers matching some of the (corrected) terms, or with similar titles. Exact matches,
  // when there are any, are never mixed with typo matches.
  const relaxedTerms = corrected?.terms ?? terms;
  const similar = await remembered(db, `similar ${relaxedTerms.fuzzy}`, PLAN_TTL_MS, () =>
    similarWords(db, relaxedTerms),
  );
  const relaxed: SearchTerms = { ...relaxedTerms, similar };
  const page = await searchPageCounted(db, { ...base, terms: relaxed, mode: 'fuzzy' }, vis);
  const exhaustive = order === 'NEWEST' || (page.candidateCount ?? 0) < RELEVANCE_CANDIDATES;
  return { rows: page.rows, mode: 'fuzzy', exhaustive, terms: relaxed, matchMode: 'fuzzy', fixes: corrected?.fixes };
}

/** What a page of the matches of every term is read for: the arguments, the key its plans are remembered by, and its fast paths. */
interface TextRead {
  base: Omit<SearchArgs, 'mode'>;
  planKey: string;
  fast: FastPath;
}

/** A page of the matches of every term (text mode), RELEVANCE or NEWEST. */
async function textPage(db: Db, vis: Visibility, read: TextRead): Promise<{ rows: SearchHit[]; exhaustive: boolean }> {
  if (read.base.order === 'RELEVANCE') return rankedPage(db, vis, read);
  const { base, planKey } = read;
  const { terms, filter } = base;
  const few = await remembered(db, `few ${planKey}`, PLAN_TTL_MS, () => fewMatches(db, { terms, filter }));
  const page = await searchPageCounted(db, { ...base, mode: 'text', few }, vis);
  return { rows: page.rows, exhaustive: true };
}

/**
 * The words of a relaxed query whose similar titles are worth finding (SearchTerms.similar): those that match no
 * paper (typos nobody could correct, words foreign to the archive). The others find their papers as they are, and
 * their letters, shared with most titles, made the trigram index hand back hundreds of thousands of titles ('' when
 * every word matches some paper; the whole text when it is one word).
 */
async function similarWords(db: Db, terms: SearchTerms): Promise<string> {
  const words = terms.fuzzy.split(' ').filter(Boolean);
  if (words.length <= 1) return terms.fuzzy;
  const vocabulary = await commonLexemes(db);
  const known = new Set(vocabulary.map((v) => v.lexeme));
  const unmatched = await unmatchedLexemes(db, words, (lexeme) => known.has(lexeme));
  return words.filter((_, i) => unmatched[i] !== null).join(' ');
}

/** A word the vocabulary can correct: letters and digits, maybe joined by hyphens (no phrase, no punctuation). */
const CORRECTABLE = /^[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*$/u;

/**
 * The terms with each word that matches no paper replaced by the archive's
 * lexeme closest to it (src/search/typos.ts), when at least one is; else
 * null. Only groups of one plain word are corrected, and never in a query
 * with a quoted phrase (which asks for exactly its words).
 */
async function correctedTerms(db: Db, terms: SearchTerms): Promise<{ terms: SearchTerms; fixes: Fix[] } | null> {
  if (terms.phrase) return null;
  const words = terms.groups.map((g) => (g.length === 1 && CORRECTABLE.test(g[0]!) ? g[0]! : null));
  const asked = words.filter((w): w is string => w !== null);
  if (asked.length === 0) return null;
  const vocabulary = await commonLexemes(db);
  const known = new Set(vocabulary.map((v) => v.lexeme));
  const unmatched = await unmatchedLexemes(db, asked, (lexeme) => known.has(lexeme));
  if (unmatched.every((l) => l === null)) return null;
  // The closest lexemes of each unmatched word, then the first that a word of its own searches for.
  const candidates = asked.map((_, i) => {
    const lexeme = unmatched[i];
    return lexeme ? correctionsOf(lexeme, vocabulary, 3, asked[i]).map((c) => c.lexeme) : [];
  });
  const flat = candidates.flat();
  const found = await searchableWords(db, flat);
  const searchable = new Map(flat.map((lexeme, i) => [lexeme, found[i]] as const));
  const fixes = new Map<string, Fix>();
  asked.forEach((typed, i) => {
    const lexeme = candidates[i]!.find((c) => searchable.get(c) != null);
    if (lexeme) fixes.set(typed, { typed, lexeme, word: searchable.get(lexeme)! });
  });
  if (fixes.size === 0) return null;
  const corrected: SearchTerms = {
    ...terms,
    groups: terms.groups.map((g, i) => {
      const fix = words[i] ? fixes.get(words[i]!) : undefined;
      return fix ? [fix.word] : g;
    }),
    fuzzy: terms.fuzzy
      .split(' ')
      .map((w) => fixes.get(w)?.word ?? w)
      .join(' '),
  };
  return { terms: corrected, fixes: [...fixes.values()] };
}

/**
 * The reader's text with each corrected word replaced by the word the
 * archive writes for it: of the words of the best results that the search
 * turns into the correction, the closest to what the reader typed
 * (`resaoning` → "reasoning", not "Reason"; `GPT4o` → "GPT-4o"), for
 * "showing results for …"; the searched word when none of them holds it.
 */
async function correctedText(db: Db, query: string, fixes: Fix[], paperIds: number[]): Promise<string> {
  const written = await writtenWords(
    db,
    fixes.map((f) => f.lexeme),
    paperIds,
  );
  // (as a title writes it, "Reasoning", lower-cased; kept when capitals follow the first letter: "GPT-4o", "DeepSeek")
  const shown = (w: string) => (/\p{Lu}/u.test(w.slice(1)) ? w : w.toLowerCase());
  const byTyped = new Map(
    fixes.map((f, i) => {
      const words = written[i] ?? [];
      const closest = closestWord(f.typed, words);
      return [f.typed, shown(closest ?? f.word)] as const;
    }),
  );
  return query
    .split(/(\s+)/)
    .map((token) => byTyped.get(token) ?? token)
    .join('');
}

/** Below this many expected matches a two-word page is ranked from all of them (~8 µs a match) rather than walked from the title terms (20–50 ms). */
const PAIR_MIN_MATCHES = 8_000;

/** A phrase's second walk: counts of up to this many title-word entries read to their end, every paper kept. */
const PHRASE_WHOLE_EXAMINED = 512;
/** …of at most this many counts (each costs up to PHRASE_WHOLE_EXAMINED rows read). */
const PHRASE_WHOLE_COUNTS_MAX = 2;

/** A title scope is tried when the planner expects at most this many papers in it (its statement costs what it scores). */
const TITLE_SCOPE_MAX = 10_000;

/**
 * A RELEVANCE page in text mode, ranked over every match when there are at
 * most EXACT_RANK_BOUND (exhaustive), in steps, each taken only when the
 * ones before cannot give the page:
 *
 * 0. a one-word (one-phrase, two-word) query's first page without filter:
 *    from the title's words (titleTermsPage, titlePhrasePage, titlePairPage:
 *    a few index entries per summary count, whatever the number of
 *    matches), when it is full, exact, and above every match without a word
 *    of the query in its title;
 * 1. the matches whose title holds a group of the query, or when those are
 *    too many, those whose title holds every group (found through the title
 *    index; tried when expected at most TITLE_SCOPE_MAX): when the page
 *    fills with scores above what any match outside can reach
 *    (scopeMaxScoreOutside), no other match could enter it;
 * 2. every match, when the planner expects at most EXACT_RANK_BOUND;
 * 3. above the bound: the most recent RELEVANCE_CANDIDATES matches (see
 *    relevanceWindow), not exhaustive.
 */
async function rankedPage(
  db: Db,
  vis: Visibility,
  read: TextRead,
): Promise<{ rows: SearchHit[]; exhaustive: boolean }> {
  const { base, planKey, fast } = read;
  // (rankBound: taken by the exact scopes' first pages)
  const args = { ...base, mode: 'text' as const, rankBound: fast.rankBound };
  // An exact page, full, whose last paper is above every paper without the query in its title.
  const servable = (page: { rows: SearchHit[]; exact: boolean }) => {
    const last = page.rows[args.limit - 1];
    return page.exact && last !== undefined && last.score > scopeMaxScoreOutside(args.terms, 'title');
  };
  const fastPage = async (read: () => Promise<{ rows: SearchHit[]; exact: boolean }>) => {
    const page = await read();
    return servable(page) ? page : null;
  };
  const first = !args.cursor && !args.filter;
  // (the title walks' pages are served only above every paper without the query in its title: headlines then only)
  const walk = { ...args, headlinesAbove: scopeMaxScoreOutside(args.terms, 'title') };
  if (first && fast.lexeme !== null) {
    const page = await fastPage(() => titleTermsPage(db, walk, vis, fast.lexeme!));
    if (page) return { rows: page.rows, exhaustive: true };
  }
  if (first && fast.phraseLexemes !== null) {
    const page = await titlePhrasePage(db, walk, vis, fast.phraseLexemes);
    if (servable(page)) return { rows: page.rows, exhaustive: true };
    // Full and above the other papers, but a few counts' bounds reach the page: those counts read again, every
    // paper examined taken (at most PHRASE_WHOLE_EXAMINED a count).
    const last = page.rows[args.limit - 1]?.score;
    const reaching = page.reaching;
    if (
      last !== undefined &&
      last > scopeMaxScoreOutside(args.terms, 'title') &&
      reaching.length > 0 &&
      reaching.length <= PHRASE_WHOLE_COUNTS_MAX
    ) {
      const again = await titlePhrasePage(db, walk, vis, fast.phraseLexemes, {
        examinedPerCount: PHRASE_WHOLE_EXAMINED,
        wholeCounts: reaching,
      });
      if (servable(again)) return { rows: again.rows, exhaustive: true };
    }
  }
  const sizes = await remembered(db, `ranking ${planKey}`, PLAN_TTL_MS, () => estimateRanking(db, args));
  // Two words: from their title terms, when the papers holding both in their titles are expected to be few enough
  // to score and the matches too many to score them all cheaply (measured: bench/search-random.ts).
  if (
    first &&
    fast.pairLexemes !== null &&
    sizes['title-all'] <= PAIR_BOTH_IN_TITLE_MAX &&
    sizes.all > PAIR_MIN_MATCHES
  ) {
    const page = await fastPage(() => titlePairPage(db, walk, vis, fast.pairLexemes!));
    if (page) return { rows: page.rows, exhaustive: true };
  }
  // The title scopes, narrowest first (every group in the title, then any): each is tried only when it is expected
  // to read far fewer rows than scoring every match would (a scope's statement costs the rows its index yields,
  // filled or not), to hold enough rows to fill the page, and when the page starts above what any other match
  // could reach.
  const afterScore = args.cursor ? (args.cursor as [number, number])[0] : Number.POSITIVE_INFINITY;
  const cheap = (n: number) =>
    n <= TITLE_SCOPE_MAX && n >= args.limit && (sizes.all > EXACT_RANK_BOUND || n * 2 <= sizes.all);
  const scopes = (args.terms.groups.length > 1 ? (['title-all', 'title'] as const) : (['title'] as const)).filter(
    (scope) => cheap(sizes[scope]) && afterScore > scopeMaxScoreOutside(args.terms, scope),
  );
  for (const scope of scopes) {
    const bound = scopeMaxScoreOutside(args.terms, scope);
    const page = await searchPageCounted(db, { ...args, scope, headlinesAbove: bound }, vis);
    const last = page.rows[args.limit - 1];
    const filled = last !== undefined && last.score > bound;
    if (filled && (page.candidateCount ?? 0) <= EXACT_RANK_BOUND) return { rows: page.rows, exhaustive: true };
  }
  // The estimate may be low: the statement itself stops past the bound and says so.
  if (sizes.all <= EXACT_RANK_BOUND) {
    const page = await searchPageCounted(db, { ...args, scope: 'all' }, vis);
    if ((page.candidateCount ?? 0) <= EXACT_RANK_BOUND) return { rows: page.rows, exhaustive: true };
  }
  const relevance = await remembered(db, `window ${planKey}`, PLAN_TTL_MS, () => relevanceWindow(db, args));
  const page = await searchPageCounted(db, { ...args, scope: 'recent', window: relevance }, vis);
  return { rows: page.rows, exhaustive: false };
}

/** The page's edges: each row as a paper, with its cursor, score and text matches. */
function toEdges(
  rows: SearchHit[],
  mode: CursorMode,
  plan: Plan,
  matched: { terms: SearchTerms; mode: SearchMode },
  onPaper?: (paper: PaperRow) => void,
): SearchEdge[] {
  const keyOf = (r: SearchHit): SearchCursor =>
    plan.order === 'RELEVANCE' ? [mode, r.score, r.id] : [mode, r.weekStart, r.issueId, r.sectionNumber, r.position];
  return rows.map((r) => {
    onPaper?.(r);
    const { score, titleHeadline: _t, summaryHeadline: _s, summaryHead: _h, summaryTail: _e, ...paper } = r;
    const cursor = encodeCursor(plan.codec, keyOf(r));
    return { cursor, node: paper, score, matches: plan.matches ? textMatches(r, matched.mode, matched.terms) : [] };
  });
}

/**
 * The arXiv ids of a query made of identifiers only (`2505.03335`, `arXiv 2505.03335v2`,
 * an arxiv.org URL or DOI; the word "arxiv" may stand beside them), else null.
 */
export function identifiersOnly(query: string): string[] | null {
  const ids: string[] = [];
  for (const token of query.split(/\s+/)) {
    if (/^arxiv:?$/i.test(token)) continue;
    const id = parseArxivIdentifier(token);
    if (!id) return null;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids.length > 0 ? ids : null;
}

/**
 * A query of arXiv identifiers answered by the papers carrying them (one page,
 * no cursor to follow), or null when no visible paper does (the text search
 * then looks for the identifier in the papers' text).
 */
async function identifiedPapers(deps: SearchDeps, ids: string[], plan: Plan): Promise<SearchResults | null> {
  const found = (await Promise.all(ids.map((id) => paperByArxivId(deps.db, id, deps.visibility)))).filter(
    (p): p is PaperRow => p !== null,
  );
  if (found.length === 0) return null;
  const hits: SearchHit[] = found.slice(0, plan.window.size).map((p) => ({
    ...p,
    score: 1,
    titleHeadline: null,
    summaryHeadline: null,
    summaryHead: null,
    summaryTail: null,
  }));
  const edges = toEdges(hits, 'text', plan, { terms: plan.terms, mode: 'text' }, deps.onPaper);
  const counts = new Map<number, number>();
  for (const p of found) counts.set(p.categoryId, (counts.get(p.categoryId) ?? 0) + 1);
  return {
    edges,
    pageInfo: {
      hasNextPage: false,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    counts: async () => ({
      total: found.length,
      exact: true,
      facets: [...counts].map(([categoryId, count]) => ({ categoryId, count })),
    }),
    correctedQuery: async () => null,
    relaxed: false,
    exhaustive: true,
  };
}

/** One page of a paper search (`Query.searchPapers`). */
export async function searchPapers(deps: SearchDeps, request: SearchRequest): Promise<SearchResults> {
  const { query, filter, order } = request;
  const codec = searchCodec(query, filter, order);
  const window = windowFromArgs({ first: request.first, after: request.after }, 'DESC', codec);
  const { db, visibility: vis } = deps;

  const terms = parseSearchQuery(query);
  // A query of identifiers only: the papers carrying them (first page, no filter).
  const ids = window.cursor === null && !filter ? identifiersOnly(query) : null;
  if (ids) {
    const plan: Plan = { query, terms, filter, order, codec, window, matches: false, fast: NO_FAST_PATH };
    const identified = await identifiedPapers(deps, ids, plan);
    if (identified) return identified;
  }
  const analysis = await remembered(db, `parse ${query}`, Number.POSITIVE_INFINITY, () => analyzeQuery(db, terms));
  if (analysis.nodes === 0) return noResults();
  if (!analysis.indexable) {
    throw userInputError('`query` needs at least one word to look for (not only excluded `-words`)', 'query');
  }

  const plan: Plan = {
    query,
    terms,
    filter,
    order,
    codec,
    window,
    matches: request.matches ?? true,
    fast: analysis,
    issues: request.issues,
  };
  const { rows, mode, exhaustive, terms: matched, matchMode, fixes, termsQuery } = await readPage(db, vis, plan);
  const hasMore = rows.length > window.size;
  const edges = toEdges(
    hasMore ? rows.slice(0, window.size) : rows,
    mode,
    plan,
    { terms: matched, mode: matchMode },
    deps.onPaper,
  );
  let counts: Promise<SearchCounts> | null = null;
  let corrected: Promise<string | null> | null = null;
  return {
    edges,
    pageInfo: {
      hasNextPage: hasMore,
      hasPreviousPage: window.cursor !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    // totalCount and facets come from the same statement, run once and only when asked for.
    counts: () => {
      counts ??= searchCounts(db, { terms: matched, filter, mode: matchMode, termsQuery }, vis).then((c) => ({
        ...c,
        facets: c.facets.sort((a, b) => b.count - a.count || a.categoryId - b.categoryId),
      }));
      return counts;
    },
    correctedQuery: () => {
      corrected ??= fixes
        ? correctedText(
            db,
            query,
            fixes,
            rows.slice(0, 3).map((r) => r.id),
          )
        : Promise.resolve(null);
      return corrected;
    },
    relaxed: mode !== 'text',
    exhaustive,
  };
}
