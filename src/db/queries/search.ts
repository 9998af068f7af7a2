import type { SQL } from 'drizzle-orm';
import { sql } from '../orm.js';
import type { Db } from '../client.js';
import { ISSUE, type IssueMode, type IssueView, issueColumns, issueFromValues } from '../read-model/issue.js';
import type { PaperRow } from '../schema.js';
import {
  NEWEST_FIRST,
  type PaperFilterArgs,
  type PaperKey,
  type Visibility,
  archiveKeysetSql,
  archiveOrderSql,
  paperFilterSql,
  visiblePapers,
  visiblePapersByRow,
} from './fragments.js';
import { PAPER_COLUMNS, type RawPaper, toPaper } from './papers.js';
import { termsQuery } from './terms-query.js';
import { idValues, selectRows } from './util.js';

/*
 * Search and discovery. Every statement here starts from an index:
 *
 * - full text: `papers.search_vector @@ websearch_to_tsquery('english', $q)`
 *   (GIN papers_search_vector_idx, or a walk of the archive-order index
 *   papers_order_idx filtering on `@@` when the words are common — the planner
 *   chooses from the statistics);
 * - RELEVANCE ranks a bounded candidate set: the RELEVANCE_CANDIDATES most
 *   recent matches (archive order, the plan of NEWEST), so a page costs the
 *   same whether the words match 30 papers or 300 000. With fewer matches than
 *   that the ranking is exact;
 * - relaxed mode, only when no paper matches every term: papers matching any
 *   of them, and typo tolerance: `$words <% papers.title` (word similarity,
 *   GIN trigram index papers_title_trgm_idx); at most
 *   FUZZY_CANDIDATES similar titles, in the order the index yields them;
 * - identifiers: `papers.arxiv_id = $id` (btree papers_arxiv_id_idx);
 * - related papers: a query of pairs of the paper's rarest terms, again on the
 *   GIN index, at most RELATED_CANDIDATES candidates ranked per paper;
 * - draft visibility: a primary-key lookup of the paper's edition per
 *   candidate (a correlated subquery), never a join on a scan of `issues`.
 */

/**
 * How a search matched: `text`, every group of terms; `fuzzy` (relaxed), at
 * least one group, or a title with words similar to the query's (typos) —
 * the fallback when `text` finds nothing.
 */
export type SearchMode = 'text' | 'fuzzy';
export type SearchOrder = 'RELEVANCE' | 'NEWEST';

/** Keyset of a result: (score, id) for RELEVANCE, the archive order for NEWEST. */
export type SearchKey = [score: number, id: number] | PaperKey;

/**
 * What a search looks for (src/search/query.ts makes it from the reader's
 * text). Each alternative is a text `websearch_to_tsquery('english', …)`
 * reads: a word, words (all of them), or a "quoted phrase".
 */
export interface SearchTerms {
  /** Every group must match (in relaxed mode: at least one); a group matches when one of its alternatives does (a term and its synonyms, or `a or b`). */
  groups: string[][];
  /** None of these may match: they only filter, they never change a score. */
  excluded: string[];
  /** The wanted words as written (quotes, `or` and excluded terms left out; '' when none): titles are compared with them (typos, and the query as written in a title). */
  fuzzy: string;
  /** Whether the text holds a quoted phrase (typo tolerance then stays off). */
  phrase: boolean;
  /**
   * Relaxed mode: the words whose similar titles are candidates too (default `fuzzy`). A query whose other words
   * match leaves them out (they find their papers already): the trigram index reads every title sharing a few
   * letters with any word, ~230 000 of them for `large language models are zxcvb` (0.6 s at a million papers).
   */
  similar?: string;
}

export interface SearchArgs {
  /** What to look for (from the user's text, already checked: non-empty, no NUL, bounded length). */
  terms: SearchTerms;
  filter?: PaperFilterArgs | undefined;
  order: SearchOrder;
  mode: SearchMode;
  /** Start after this key (forward only). */
  cursor: SearchKey | null;
  /** Whether the page's rows carry their headlines (default true): `ts_headline` over every summary is most of a page's cost. */
  headlines?: boolean;
  limit: number;
  /**
   * RELEVANCE in text mode, which matches are ranked (default `recent`):
   * `title-all`, every match whose title matches every group of the query;
   * `title`, every match with a group of the query in its title; `all`, every
   * match; each at most EXACT_RANK_BOUND + 1 of them (`candidateCount` then
   * tells that the bound was passed). `recent`: the most recent `candidates`.
   */
  scope?: RankScope;
  /** RELEVANCE only: how many of the most recent matches are ranked (default RELEVANCE_CANDIDATES; tests set it small). */
  candidates?: number;
  /**
   * RELEVANCE only: look for the candidates in recent editions only (see
   * `relevanceWindow`); searchPage widens to the whole archive by itself when
   * the window holds fewer than the candidates.
   */
  window?: RelevanceWindow | null;
  /** Text mode: the query of papers_terms_idx when the query holds a phrase (QueryAnalysis.termsQuery). */
  termsQuery?: string | null;
  /**
   * Headlines only when the page is full and its last score above this (and its candidates within EXACT_RANK_BOUND):
   * for the pages a caller serves only then (rankedPage's title scopes and title walks), whose headlines are wasted
   * otherwise. Absent: always.
   */
  headlinesAbove?: number;
  /**
   * An exact scope's first page (no cursor): the lexemes whose count in a summary bounds its rank
   * (QueryAnalysis.rankBound). Each match's score without the rank is computed first, and the rank only for the
   * matches whose score with the bound can reach the page (rankBoundSql); null or absent: every match ranked.
   */
  rankBound?: readonly string[] | null;
  /**
   * Which of its edition's columns each paper of the page carries (IssueMode: GraphQL looks ahead at `issue`), read
   * in the page's statement from the edition joined to each paper of the page; default none.
   */
  issues?: IssueMode;
  /**
   * NEWEST in text mode: the query is known to match fewer than FEW_MATCHES
   * papers (see `fewMatches`): the page is taken from all of them, found
   * through the GIN index, instead of walking the archive order.
   */
  few?: boolean;
}

/** Where RELEVANCE looks for its candidates: editions of week `since` or later, found through the GIN index or (`walk`) by walking the archive order. */
export interface RelevanceWindow {
  since: string;
  walk: boolean;
}

/** Which matches a RELEVANCE statement ranks (SearchArgs.scope). */
export type RankScope = 'title-all' | 'title' | 'all' | 'recent';

/**
 * RELEVANCE ranks every match exactly as long as there are at most this many
 * (about 50 years of this newsletter); above, a bounded approximation.
 */
export const EXACT_RANK_BOUND = 50_000;
/**
 * The highest score a text-mode match can have when its title matches none
 * of the query's groups (`title` scope) or not all of them (`title-all`):
 * scoreSql's 2 + 1.5 × title coverage + title as written + ts_rank_cd (below
 * 1) + recency (at most RECENCY_WEIGHT). Without a group in the title, the
 * title holds neither the text nor a run of its words, unless a group is
 * several words (a phrase, or a vocabulary term written out): a run of some
 * of them may be in the title without the group (`"group relative policy
 * optimization"`, "Group Relative Policy Gradients"), up to 1 more: 3 (or 4)
 * + RECENCY_WEIGHT. With one group missing, coverage is at most (k − 1) / k
 * of k groups, the text is not in the title (its part counts only in a title
 * holding every group) but runs of words may be (at most 1 when there are
 * two groups or more; none when the query is two words as written, each a
 * group: the one run holds both, and a title holding it holds each word).
 * When a scope's best matches fill a page above this, no other match can
 * enter the page: it is exact.
 */
export function scopeMaxScoreOutside(terms: SearchTerms, scope: 'title' | 'title-all'): number {
  const k = terms.groups.length;
  // (runs are of the words as written: none in a one-word query, whatever its synonyms)
  const partialRuns =
    terms.fuzzy.includes(' ') && terms.groups.some((g) => g.some((alt) => /\s/.test(alt.replaceAll('"', ' ').trim())));
  if (scope === 'title' || k <= 1) return 3 + (partialRuns ? 1 : 0) + RECENCY_WEIGHT;
  return 2 + (1.5 * (k - 1)) / k + (twoGroupWords(terms) ? 0 : 1) + 1 + RECENCY_WEIGHT;
}

/** Whether the query is two words as written, each the alternative of its own group as written (`GLM-4 model`). */
function twoGroupWords(terms: SearchTerms): boolean {
  const words = terms.fuzzy.split(' ').filter(Boolean);
  if (terms.groups.length !== 2 || words.length !== 2) return false;
  const lower = (w: string) => w.toLowerCase();
  return words.every((w, i) => terms.groups[i]!.some((alt) => lower(alt) === lower(w)));
}

/**
 * The bounded approximation, above EXACT_RANK_BOUND matches: the most recent
 * matches only (archive order), this many.
 */
export const RELEVANCE_CANDIDATES = 400;
/** Typo tolerance: at most this many titles similar to the words are ranked (in index order). */
export const FUZZY_CANDIDATES = 500;

export interface QueryAnalysis {
  /** Operators and operands in the parsed query; 0 when it holds only stop words or punctuation. */
  nodes: number;
  /** false when the query cannot use the index (only negated terms, e.g. `-reward`). */
  indexable: boolean;
  /** The query's one lexeme when it is one word (titleTermsPageSql), else null. */
  lexeme: string | null;
  /**
   * The lexemes of the query's one quoted phrase when it is nothing else (titlePhrasePageSql), or of its one word
   * when the parser reads it as a phrase of several (`Llama-3`: 'llama' <-> '-3'), else null.
   */
  phraseLexemes: string[] | null;
  /** The two lexemes of a query of two plain words, each one lexeme (titlePairPageSql), else null. */
  pairLexemes: [string, string] | null;
  /** The query of papers_terms_idx for the query's groups when it holds a phrase (terms-query.ts), else null. */
  termsQuery: string | null;
  /** The lexemes (tsquery literals) whose count in a summary bounds the query's rank there (rankBoundLexemes), else null. */
  rankBound: string[] | null;
}

/** Text marking the start and end of a match in `ts_headline` output (Unicode private use, removed from the text first). */
export const MARK_START = '\uE000';
export const MARK_END = '\uE001';
const MARKS = `${MARK_START}${MARK_END}`;

const TITLE_HEADLINE_OPTIONS = `StartSel="${MARK_START}", StopSel="${MARK_END}", HighlightAll=true`;
const SUMMARY_HEADLINE_OPTIONS = `StartSel="${MARK_START}", StopSel="${MARK_END}", MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … "`;

export interface SearchHit extends PaperRow {
  score: number;
  /** Title with MARK_START/MARK_END around matched words (null when not asked for: SearchArgs.headlines). */
  titleHeadline: string | null;
  /** One or two fragments of the summary, marked the same way (null when not asked for). */
  summaryHeadline: string | null;
  /** The summary's first and last SUMMARY_EDGE characters (null when the headlines were not asked for). */
  summaryHead: string | null;
  summaryTail: string | null;
  /** The paper's edition, or the columns of it that the page was asked to carry (SearchArgs.issues); absent when none. */
  edition?: IssueView;
}

export interface SearchFacetRow {
  categoryId: number;
  count: number;
}

const websearch = (text: string): SQL => sql`websearch_to_tsquery('english', ${text}::text)`;

/** A group of terms as one tsquery: any of its alternatives. */
const groupQuery = (alternatives: readonly string[]): SQL => sql`(${sql.join(alternatives.map(websearch), sql` || `)})`;

/** The wanted terms as one tsquery: all groups (relaxed: any), no exclusion (for ranking and highlights). */
function positiveQuery(terms: SearchTerms, relaxed: boolean): SQL {
  if (terms.groups.length === 0) return sql`''::tsquery`;
  return sql`(${sql.join(terms.groups.map(groupQuery), relaxed ? sql` || ` : sql` && `)})`;
}

/** The tsquery a paper must match: the wanted terms without the excluded ones. */
function matchQuery(terms: SearchTerms, relaxed: boolean): SQL {
  if (terms.excluded.length === 0) return positiveQuery(terms, relaxed);
  const excluded = sql`!!(${sql.join(terms.excluded.map(websearch), sql` || `)})`;
  return terms.groups.length === 0 ? excluded : sql`(${positiveQuery(terms, relaxed)} && ${excluded})`;
}

/** Typo tolerance applies: relaxed mode, words to compare, no quoted phrase. */
const typos = (args: Pick<SearchArgs, 'mode' | 'terms'>): boolean =>
  args.mode === 'fuzzy' && !args.terms.phrase && args.terms.fuzzy !== '';
/** The text whose similar titles a relaxed search takes as candidates ('' for none): SearchTerms.similar. */
const similarText = (terms: SearchTerms): string => terms.similar ?? terms.fuzzy;

/**
 * Match condition of a search (on alias `p`). The query is written inline
 * (not in a CTE) so that the planner sees its lexemes and estimates from the
 * statistics how many rows match.
 */
function matchSql(args: Pick<SearchArgs, 'mode' | 'terms'>): SQL {
  const q = matchQuery(args.terms, args.mode === 'fuzzy');
  return typos(args) && similarText(args.terms) !== ''
    ? sql`(p.search_vector @@ ${q} OR ${similarText(args.terms)}::text <% p.title)`
    : sql`p.search_vector @@ ${q}`;
}

/**
 * Match condition of a text-mode statement that reads every match through a bitmap (an exact ranking, the
 * counts): through papers_terms_idx when the query holds a phrase (`termsQuery`, terms-query.ts), each paper it
 * hands over checked against the query itself (ts_match_vq: `@@` as a call, which no index serves, so the planner
 * takes the terms index alone); else as matchSql.
 */
function everyMatchSql(args: Pick<SearchArgs, 'mode' | 'terms' | 'termsQuery'>): SQL {
  if (args.mode !== 'text' || !args.termsQuery) return matchSql(args);
  return sql`llmp_terms(p.search_vector) @@ ${args.termsQuery}::tsquery AND ts_match_vq(p.search_vector, ${matchQuery(args.terms, false)})`;
}

/**
 * Reads `statement` (one using everyMatchSql with a terms query) in a transaction whose work_mem holds a bitmap of
 * every block of `papers` exactly. A bitmap past work_mem turns lossy: PostgreSQL then checks the index condition
 * again on every row of its blocks, which for llmp_terms means computing it (~0.2 ms a row: `"test-time compute"`,
 * 155 965 papers, 1.1 s to count 2 000 of them with the default 4 MB). ~64 bytes a block, 80 said.
 */
async function exactBitmapRows<T>(db: Db, statement: SQL): Promise<T[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('work_mem', greatest(
        pg_size_bytes(current_setting('work_mem')) / 1024,
        pg_relation_size('papers') / current_setting('block_size')::int * 80 / 1024 + 1024
      )::bigint::text || 'kB', true)`);
    return selectRows<T>(tx as unknown as Db, statement);
  });
}

/** selectRows, through exactBitmapRows when the statement reads the terms index. */
const matchRows = <T>(db: Db, args: Pick<SearchArgs, 'mode' | 'termsQuery'>, statement: SQL): Promise<T[]> =>
  args.mode === 'text' && args.termsQuery ? exactBitmapRows<T>(db, statement) : selectRows<T>(db, statement);

/**
 * Share of `queries` (those with at least `minNodes` nodes: a word to look
 * for) that the row matches, each tested by `matches`. Written out, one term
 * per query, rather than as a subquery over an array: the counts of nodes
 * are constants the planner folds.
 */
function shareSql(matches: (q: SQL) => SQL, queries: SQL[], minNodes: number): SQL {
  if (queries.length === 0) return sql`0`;
  const counted = queries.map((q) => sql`(numnode(${q}) >= ${sql.raw(String(minNodes))})::int`);
  const matched = queries.map((q, i) => sql`(${matches(q)})::int * ${counted[i]!}`);
  return sql`((${sql.join(matched, sql` + `)})::float8 / greatest(1, ${sql.join(counted, sql` + `)}))`;
}

/** Share of the groups (those with a word to look for: not stop words only) that `matches` finds. */
function coverageSql(terms: SearchTerms, matches: (q: SQL) => SQL): SQL {
  return shareSql(matches, terms.groups.map(groupQuery), 1);
}

/**
 * How much of the query the title holds as written, in [0, 2]: 1 when it
 * holds the text itself ("When to Think", stop words included), plus the
 * share of the query's runs of two and three consecutive words that the
 * title holds in that order and adjacent (stemmed, stop words as gaps:
 * "Chain-of-Thought" for "chain of thought", "Speculative Decoding" for
 * "speculative decoding drafter", but not "Decoding Speculative").
 */
function titleAsWrittenSql(terms: SearchTerms): SQL {
  const words = terms.fuzzy;
  const list = words.split(/\s+/).slice(0, 12);
  const runs: string[] = [];
  for (let i = 0; i + 1 < list.length; i++) {
    runs.push(list.slice(i, i + 2).join(' '));
    if (i + 2 < list.length) runs.push(list.slice(i, i + 3).join(' '));
  }
  const phrases = runs.map((r) => sql`phraseto_tsquery('english', ${r}::text)`);
  // (hyphens and spaces alike: "long-context" holds "long context")
  const text = words.toLowerCase().replace(/-/g, ' ');
  // Neither the text nor a run can be in a title holding none of the text's words: such a title (most matches of a
  // common query hold their words in the summary only) skips searching its folded text (papers.title_folded).
  // (`&` between a plainto_tsquery's terms made `|`: a lexeme never holds a space.)
  const anyWord = sql`regexp_replace(plainto_tsquery('english', ${words}::text)::text, ' & ', ' | ', 'g')::tsquery`;
  // The text itself counts in a title holding every group only: found inside other words ("drag model" holds
  // "rag model") it would lift a title without them (scopeMaxScoreOutside relies on it).
  return sql`(CASE WHEN numnode(${anyWord}) = 0 OR ${inTitle(anyWord)} THEN
      (${coverageSql(terms, inTitle)} >= 1 AND strpos(p.title_folded, ${text}::text) > 0)::int
      + ${shareSql(inTitle, phrases, 3)}
      ELSE 0 END)`;
}

/** The title's lexemes as papers_title_vector_idx indexes them (the same as search_vector's weight-A part). */
const TITLE_LEXEMES = sql`to_tsvector('english', p.title)`;
/**
 * `q` restricted to the title: every lexeme marked weight A, which only the
 * title's part of a search vector carries (the text form rewritten once per
 * statement: a constant the planner folds). Testing the row's search vector
 * with it tests its title without copying the title's part out of the
 * vector (ts_filter) for every row.
 */
export const titleOnly = (q: SQL): SQL =>
  sql`(regexp_replace((${q})::text, '''([^'']|'''')*''', '\\&:A', 'g')::tsquery)`;
/** Whether the title of row `p` matches `q`. */
const inTitle = (q: SQL): SQL => sql`p.search_vector @@ ${titleOnly(q)}`;
/** Whether the search vector of row `p` (title or summary) matches `q`. */
const inVector = (q: SQL): SQL => sql`p.search_vector @@ ${q}`;
/**
 * ts_rank_cd's weights {D, C, B, A} counting the summary's positions only
 * (weight B, at its default 0.4): the rank of the summary's part of the
 * vector, without copying that part out for every row.
 */
export const SUMMARY_WEIGHTS = sql.raw(`'{0, 0, 0.4, 0}'`);
/** Most a paper's freshness adds to its score (RECENCY). */
export const RECENCY_WEIGHT = 0.25;
/**
 * Freshness, in (−4e-7, RECENCY_WEIGHT]: the weight for the newest published
 * edition's papers (and drafts), decaying with the age of the paper's week
 * behind it (e^(−days / 730): 0.14 a year older, 0.03 four years older).
 * Relative to the archive's newest edition, not the clock, so that scores
 * change when an edition is published, not overnight. Less than one more
 * group of the query in the title adds (1.5 / k for k groups, up to six) or
 * the query as written in the title (1): it orders papers whose titles match
 * alike, so a paper of this year outranks an older one that merely repeats
 * the word once more in its summary (ts_rank_cd: 0.29 for one mention, 0.44
 * for two), not one whose title holds more of the query.
 *
 * Plus 1e-13 a day of the week's date (negative: days before 9999-12-31):
 * a later week always scores higher, also where the decay no longer shows in
 * a float8 sum (weeks some 60 years behind the newest) or is at its ceiling
 * (drafts after the newest published edition). Papers of different weeks
 * then never tie, which titleTermsPageSql relies on; 1e-13 a day moves a
 * score by 4e-8 over a thousand years, less than any other part can.
 */
const recencyOf = (week: SQL): SQL => sql`(${sql.raw(String(RECENCY_WEIGHT))} * exp(-greatest(0,
    (SELECT max(i.week_start) FROM issues i WHERE i.status = 'published') - ${week})::float8 / 730)
    + (${week} - DATE '9999-12-31')::float8 * 1e-13)`;
const RECENCY = recencyOf(sql`p.week_start`);

/**
 * Score of a matching row (float8: a cursor carries it exactly, as the
 * shortest text that reads back as the same double), highest first:
 * 2 × the share of the query's groups the paper matches (1 unless relaxed),
 * + 1.5 × the share it matches in its title (so a title holding every word,
 * or the phrase, ranks above summary-only matches), + how much of the query
 * the title holds as written (titleAsWrittenSql, 0 to 2), + ts_rank_cd of
 * the summary (cover density: frequency and proximity of the words, scaled
 * into [0, 1); the summary's only, since a title repeating a word says
 * nothing more), + in relaxed mode the title's word similarity to the query
 * (typos), + freshness (RECENCY, at most RECENCY_WEIGHT). Excluded terms never count.
 */
function scoreSql(args: Pick<SearchArgs, 'mode' | 'terms'>, withRank = true): SQL {
  const relaxed = args.mode === 'fuzzy';
  const wanted = positiveQuery(args.terms, relaxed);
  const coverage = relaxed ? sql`2 * ${coverageSql(args.terms, inVector)}` : sql`2`;
  // (without the rank: the score less at most the rank, in [0, 1), up to the rounding of the sum)
  const parts = [
    coverage,
    sql`1.5 * ${coverageSql(args.terms, inTitle)}`,
    ...(args.terms.fuzzy.includes(' ') ? [titleAsWrittenSql(args.terms)] : []),
    ...(withRank ? [sql`ts_rank_cd(${SUMMARY_WEIGHTS}, p.search_vector, ${wanted}, 32)`] : []),
    RECENCY,
  ];
  if (typos(args)) parts.push(sql`word_similarity(${args.terms.fuzzy}::text, p.title)`);
  return sql`(${sql.join(parts, sql` + `)})::float8`;
}

/**
 * The one word of `terms` as written, when the query is one group of one
 * alternative with nothing excluded, written without a space (a score then
 * has no "title as written" part: titleAsWrittenSql).
 */
const oneWord = (terms: SearchTerms): string | null =>
  terms.groups.length === 1 &&
  terms.groups[0]!.length === 1 &&
  terms.excluded.length === 0 &&
  !terms.fuzzy.includes(' ')
    ? terms.groups[0]![0]!
    : null;

/**
 * The text of `terms`' one quoted phrase, when the query is that phrase alone (one group, nothing excluded; its
 * synonyms, or what follows an `or`, the group's other alternatives), else null.
 */
const onePhrase = (terms: SearchTerms): string | null => {
  const alt = terms.groups.length === 1 ? terms.groups[0]![0]! : null;
  if (alt === null || terms.excluded.length > 0) return null;
  if (terms.phrase) return /^"[^"]+"$/.test(alt) ? alt.slice(1, -1) : null;
  // one word, alone: a phrase when the parser makes several lexemes of it (analyzeQuery checks)
  return terms.groups[0]!.length === 1 && /^[^\s"]+$/.test(alt) ? alt : null;
};

/** The two words of a query of two plain words (letters and digits; no synonym, phrase or excluded word), else null. */
const twoWords = (terms: SearchTerms): [string, string] | null => {
  const plain = (g: string[]) => g.length === 1 && /^[\p{L}\p{N}]+$/u.test(g[0]!);
  if (terms.groups.length !== 2 || terms.excluded.length > 0 || terms.phrase || !terms.groups.every(plain)) return null;
  return [terms.groups[0]![0]!, terms.groups[1]![0]!];
};

/** Whether a query tree (querytree's text) is one phrase of several lexemes and nothing else. */
const onePhraseOfWord = (tree: string | undefined): boolean =>
  tree?.includes('<->') === true && !/[&|!]/.test(tree.replace(/'(?:[^']|'')*'/g, ''));

/** A word of letters and digits joined by hyphens (`long-context`, `gpt-4o`): the parser's compound word and its parts. */
const HYPHENATED = /^[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)+$/u;

/**
 * Parses the query once (no table access): is it empty (stop words only), can
 * it use the index, and is it one lexeme (for titleTermsPageSql: the word
 * turned into the one lexeme a title's vector holds, which is the one the
 * query looks for)? A hyphenated word counts as its compound lexeme (the
 * first the parser makes: `long-context` before `long` and `context`): the
 * query is the phrase of the compound and its parts, which a title matches
 * exactly when it holds the compound (the parser always writes the parts
 * after it), and a summary's cover density for it grows with the compound's
 * count alone, as a word's does.
 */
export async function analyzeQuery(db: Db, terms: SearchTerms): Promise<QueryAnalysis> {
  const word = oneWord(terms);
  const lexeme =
    word === null
      ? sql`NULL::text AS first, 0 AS lexemes, false AS same`
      : sql`(SELECT u.lexeme FROM unnest(to_tsvector('english', ${word}::text)) u ORDER BY u.positions[1] LIMIT 1) AS first,
          length(to_tsvector('english', ${word}::text)) AS lexemes, to_tsvector('english', ${word}::text) @@ q.q AS same`;
  const phrase = onePhrase(terms);
  const phraseLexemes =
    phrase === null
      ? sql`NULL::text[] AS "phraseLexemes"`
      : sql`tsvector_to_array(to_tsvector('english', ${phrase}::text)) AS "phraseLexemes"`;
  const pair = twoWords(terms);
  // each word one lexeme, which the word's query looks for; the two different
  const pairLexemes =
    pair === null
      ? sql`NULL::text[] AS "pairLexemes"`
      : sql`(SELECT CASE WHEN count(DISTINCT x.l) = 2 AND bool_and(x.ok) THEN array_agg(x.l ORDER BY v.i) END
            FROM (VALUES (1, ${pair[0]}::text), (2, ${pair[1]}::text)) AS v(i, w)
            CROSS JOIN LATERAL (
              SELECT (SELECT u.lexeme FROM unnest(to_tsvector('english', v.w)) u LIMIT 1) AS l,
                length(to_tsvector('english', v.w)) = 1 AND numnode(websearch_to_tsquery('english', v.w)) = 1
                  AND to_tsvector('english', v.w) @@ websearch_to_tsquery('english', v.w) AS ok
            ) x) AS "pairLexemes"`;
  const alternatives = terms.groups.flat();
  const trees =
    alternatives.length === 0
      ? sql`NULL::text[] AS trees`
      : sql`ARRAY[${sql.join(
          alternatives.map((alt) => sql`${websearch(alt)}::text`),
          sql`, `,
        )}] AS trees`;
  const [row] = await selectRows<{
    nodes: number;
    tree: string;
    first: string | null;
    lexemes: number;
    same: boolean;
    phraseLexemes: string[] | null;
    pairLexemes: string[] | null;
    trees: string[] | null;
  }>(
    db,
    sql`SELECT numnode(q.q) AS nodes, querytree(q.q) AS tree, ${lexeme}, ${phraseLexemes}, ${pairLexemes}, ${trees}
        FROM (SELECT ${matchQuery(terms, false)} AS q) q`,
  );
  let next = 0;
  const groupTrees = terms.groups.map((g) => g.map(() => row?.trees?.[next++] ?? '!'));
  const nodes = Number(row?.nodes ?? 0);
  const first = row?.same === true ? (row.first ?? null) : null;
  const plain = nodes === 1 && Number(row?.lexemes) === 1;
  const compound = word !== null && HYPHENATED.test(word) && first?.includes('-') === true;
  const inPhrase = row?.phraseLexemes ?? null;
  return {
    nodes,
    indexable: nodes > 0 && row?.tree !== 'T',
    lexeme: plain || compound ? first : null,
    // (a phrase of stop words only has no lexemes: nothing to read)
    phraseLexemes:
      inPhrase !== null && inPhrase.length > 0 && (terms.phrase || (onePhraseOfWord(row?.tree) && !(plain || compound)))
        ? inPhrase
        : null,
    pairLexemes: row?.pairLexemes?.length === 2 ? [row.pairLexemes[0]!, row.pairLexemes[1]!] : null,
    termsQuery: termsQuery(groupTrees),
    rankBound: await rarestLexeme(db, rankBoundLexemes(groupTrees)),
  };
}

/**
 * The statistics' most common values of a column (`values`), or of its elements (`elements`: a tsvector's lexemes),
 * with their frequencies, as rows (val, freq): a value absent from them is rare.
 */
function commonValuesSql(table: string, column: string, kind: 'values' | 'elements'): SQL {
  const [vals, freqs] =
    kind === 'values' ? ['most_common_vals', 'most_common_freqs'] : ['most_common_elems', 'most_common_elem_freqs'];
  return sql`SELECT v.val, v.freq
      FROM pg_stats s, unnest(s.${sql.raw(vals)}::text::text[], s.${sql.raw(freqs)}) AS v(val, freq)
      WHERE s.schemaname = current_schema() AND s.tablename = ${table}::text AND s.attname = ${column}::text`;
}

/**
 * Of a rank bound's lexemes (rankBoundLexemes), the one fewest papers hold by the statistics of `search_vector` (one
 * not among its most common elements: rare), as a one-lexeme list: counting a lexeme in a summary costs what its
 * positions there cost (`model`: ~55 a summary in the benchmark's archive), and the rarest gives the tightest bound.
 */
async function rarestLexeme(db: Db, literals: string[] | null): Promise<string[] | null> {
  if (literals === null || literals.length <= 1) return literals;
  const plain = literals.map((l) => l.slice(1, -1).replaceAll("''", "'"));
  const [row] = await selectRows<{ i: number }>(
    db,
    sql`SELECT l.i FROM (VALUES ${sql.join(
      plain.map((lexeme, i) => sql`(${i + 1}::int, ${lexeme}::text)`),
      sql`, `,
    )}) AS l(i, lexeme)
        LEFT JOIN (${commonValuesSql('papers', 'search_vector', 'elements')}) m ON m.val = l.lexeme
        ORDER BY coalesce(m.freq, 0), l.i
        LIMIT 1`,
  );
  return [literals[Number(row?.i ?? 1) - 1]!];
}

/**
 * The lexemes whose count in a summary bounds the rank of a two-group query there, as tsquery literals (`'model'`),
 * from each group's alternatives as websearch_to_tsquery writes them; null when no such bound holds. The rank is
 * ts_rank_cd over the summary's positions (weight B; a cover holding a title position weighs nothing): at most 0.4
 * for each cover (coversRank), a cover being a shortest run of positions holding a match of each group. When each
 * alternative is one lexeme or a phrase of them (`<->`, `<N>`: its positions a run of its own, no `&`, `|` or `!`
 * inside) and the two groups share no lexeme, two matches never share a position (a position holds one lexeme;
 * summaries shorter than the positions' limit, which rankBoundSql checks per row), so a cover is the span of one
 * match of each group side by side: a match of a group is in at most two covers (with the nearest match of the
 * other group on its left, and on its right). A group of one alternative has at most as many matches as the
 * summary holds any one of its lexemes (each match holds it at its own position): covers ≤ 2 × that count.
 */
export function rankBoundLexemes(groupTrees: readonly (readonly string[])[]): string[] | null {
  if (groupTrees.length !== 2) return null;
  const groups = groupTrees.map((alternatives) =>
    alternatives.map((tree) => {
      const lexemes: string[] = [];
      const operators = tree.replace(/'(?:[^']|'')*'/g, (literal) => {
        lexemes.push(literal);
        return ' ';
      });
      return { lexemes, contiguous: lexemes.length > 0 && /^[\s()<>\d-]*$/.test(operators) };
    }),
  );
  if (groups.some((alternatives) => alternatives.length === 0 || alternatives.some((a) => !a.contiguous))) return null;
  const [first, second] = groups.map((alternatives) => new Set(alternatives.flatMap((a) => a.lexemes)));
  if ([...first!].some((lexeme) => second!.has(lexeme))) return null;
  const counted = groups.filter((alternatives) => alternatives.length === 1).flatMap((a) => a[0]!.lexemes);
  return counted.length > 0 ? [...new Set(counted)] : null;
}

const ARCHIVE_ORDER = archiveOrderSql(NEWEST_FIRST);

/**
 * CTEs `cand` (ids of the candidate set) and, in fuzzy mode, `fuzzy_hits`.
 *
 * - Text: the `n` most recent matches in archive order (the plan of NEWEST:
 *   a walk of papers_order_idx for common words, the GIN index and a top-N
 *   sort for rare ones). Deterministic, so keyset cursors within it are stable.
 * - Fuzzy: plus at most FUZZY_CANDIDATES titles similar to the words. The
 *   trigram matches are collected in a MATERIALIZED CTE (planned for all of
 *   them, hence through the GIN trigram index) and read lazily, so the
 *   LIMIT stops the bitmap heap scan early.
 */
function candidatesSql(
  args: Pick<SearchArgs, 'mode' | 'terms' | 'filter' | 'window'>,
  vis: Visibility,
  n: number,
): SQL {
  const q = matchQuery(args.terms, args.mode === 'fuzzy');
  const since = args.window ? sql`AND p.week_start >= ${args.window.since}::date` : sql``;
  // ts_match_vq is the function behind @@: written as a call, no index can serve it, so
  // the planner walks the archive order (from the window's start) instead of the GIN index.
  const match = args.window?.walk ? sql`ts_match_vq(p.search_vector, ${q})` : sql`p.search_vector @@ ${q}`;
  const text = sql`SELECT p.id FROM papers p
      WHERE ${match} ${since} ${paperFilterSql(args.filter)} ${visiblePapersByRow(vis)}
      ORDER BY ${ARCHIVE_ORDER} LIMIT ${n}::int`;
  if (!typos(args) || similarText(args.terms) === '') return sql`cand AS MATERIALIZED (${text})`;
  return sql`fuzzy_hits AS MATERIALIZED (
      SELECT p.id FROM papers p
      WHERE ${similarText(args.terms)}::text <% p.title ${paperFilterSql(args.filter)} ${visiblePapersByRow(vis)}
    ),
    cand AS MATERIALIZED (
      (${text})
      UNION
      (SELECT fuzzy_hits.id FROM fuzzy_hits LIMIT ${FUZZY_CANDIDATES}::int)
    )`;
}

/** Characters of a summary's start and end read with its headline, to tell whether a fragment was cut there. */
const SUMMARY_EDGE = 64;

const HEADLINES = (
  q: SQL,
) => sql`ts_headline('english', translate(p.title, ${MARKS}, ''), ${q}, ${TITLE_HEADLINE_OPTIONS}) AS "titleHeadline",
      ts_headline('english', translate(p.summary, ${MARKS}, ''), ${q}, ${SUMMARY_HEADLINE_OPTIONS}) AS "summaryHeadline",
      left(translate(p.summary, ${MARKS}, ''), ${SUMMARY_EDGE}) AS "summaryHead",
      right(translate(p.summary, ${MARKS}, ''), ${SUMMARY_EDGE}) AS "summaryTail"`;
const NO_HEADLINES = sql`NULL::text AS "titleHeadline", NULL::text AS "summaryHeadline",
      NULL::text AS "summaryHead", NULL::text AS "summaryTail"`;
/** The page's headlines; with `when`, only when it holds (else NULL: a page its caller will not serve). */
function headlinesSql(args: Pick<SearchArgs, 'headlines'>, q: SQL, when?: SQL): SQL {
  if (args.headlines === false) return NO_HEADLINES;
  if (when === undefined) return HEADLINES(q);
  const only = (value: SQL, name: string) => sql`CASE WHEN ${when} THEN ${value} END AS ${sql.raw(`"${name}"`)}`;
  return sql.join(
    [
      only(
        sql`ts_headline('english', translate(p.title, ${MARKS}, ''), ${q}, ${TITLE_HEADLINE_OPTIONS})`,
        'titleHeadline',
      ),
      only(
        sql`ts_headline('english', translate(p.summary, ${MARKS}, ''), ${q}, ${SUMMARY_HEADLINE_OPTIONS})`,
        'summaryHeadline',
      ),
      only(sql`left(translate(p.summary, ${MARKS}, ''), ${SUMMARY_EDGE})`, 'summaryHead'),
      only(sql`right(translate(p.summary, ${MARKS}, ''), ${SUMMARY_EDGE})`, 'summaryTail'),
    ],
    sql`, `,
  );
}

/**
 * The condition for the headlines of a page its caller serves only when full, with its last score above
 * `args.headlinesAbove` (SearchArgs): ts_headline is ~1 ms a summary when the query holds common words, most of a
 * title scope's statement whose page is then not taken. `page` is the CTE of the page's ids and scores; `more`, a
 * further condition.
 */
function servedSql(args: SearchArgs, more: SQL = sql`true`): SQL | undefined {
  if (args.headlinesAbove === undefined) return undefined;
  return sql`((SELECT count(*) >= ${args.limit}::int AND min(sv.score) > ${args.headlinesAbove}::float8 FROM page sv) AND ${more})`;
}

/** The statement of one page of results (exported so that tests can EXPLAIN it). */
export function searchPageSql(args: SearchArgs, vis: Visibility): SQL {
  // Headlines mark every wanted word found (any group), never an excluded one.
  const q = positiveQuery(args.terms, true);
  let keyset: SQL = sql``;
  if (args.order === 'RELEVANCE') {
    if (args.cursor) {
      const [score, id] = args.cursor as [number, number];
      keyset = sql`WHERE (s.score, s.id) < (${String(score)}::float8, ${id}::int)`;
    }
    const exact = args.mode === 'text' && args.scope !== undefined && args.scope !== 'recent';
    // Exact: every match (or those with a query word in the title, through papers_title_vector_idx)
    // scored as the scan reads it; the bound only stops an estimate that was wrong (candidateCount tells).
    // Otherwise rank the candidates only (one primary-key fetch each).
    const titled = args.scope === 'title' || args.scope === 'title-all';
    const q = matchQuery(args.terms, false);
    // In a title scope the title index finds the rows, and the whole query is checked on each
    // (ts_match_vq is @@ as a call, which no index serves): the search vector's bitmap of a
    // common word would cost more than the few rows it removes.
    const match = titled
      ? sql`${TITLE_LEXEMES} @@ ${positiveQuery(args.terms, args.scope === 'title')} AND ts_match_vq(p.search_vector, ${q})`
      : exact
        ? everyMatchSql(args)
        : sql`p.search_vector @@ ${q}`;
    const bound = exact && !args.cursor && args.rankBound ? args.rankBound : null;
    const candidates = bound ? sql`matched` : sql`scored`;
    const scored = bound
      ? rankBoundedSql(args, vis, match, bound)
      : exact
        ? sql`scored AS MATERIALIZED (
          SELECT p.id, ${scoreSql(args)} AS score FROM papers p
          WHERE ${match} ${paperFilterSql(args.filter)} ${visiblePapersByRow(vis)}
          LIMIT ${EXACT_RANK_BOUND + 1}::int
        )`
        : sql`${candidatesSql(args, vis, args.candidates ?? RELEVANCE_CANDIDATES)},
        scored AS MATERIALIZED (
          SELECT p.id, ${scoreSql(args)} AS score FROM cand JOIN papers p ON p.id = cand.id
        )`;
    return sql`WITH ${scored},
      page AS (
        SELECT s.id, s.score FROM scored s ${keyset}
        ORDER BY s.score DESC, s.id DESC LIMIT ${args.limit}::int
      )
      SELECT ${PAPER_COLUMNS}, page.score::float8 AS score, ${headlinesSql(args, q, servedSql(args, sql`(SELECT count(*) FROM ${candidates}) <= ${EXACT_RANK_BOUND}::int`))}, (SELECT count(*) FROM ${candidates})::int AS "candidateCount"${editionSelect(args)}
      FROM page JOIN papers p ON p.id = page.id ${editionJoin(args)}
      ORDER BY page.score DESC, page.id DESC`;
  }
  // NEWEST: archive order (newest edition first, then by number), as Query.papers.
  if (args.cursor) keyset = archiveKeysetSql(NEWEST_FIRST, args.cursor as PaperKey);
  // Fuzzy mode: the planner cannot estimate `<%`, and may walk the whole order
  // index filtering on it; order the bounded candidate set instead.
  const page =
    args.mode === 'fuzzy'
      ? sql`${candidatesSql(args, vis, args.candidates ?? RELEVANCE_CANDIDATES)},
        page AS (
          SELECT p.id, p.week_start, p.issue_id, p.section_number, p.position FROM cand JOIN papers p ON p.id = cand.id
          WHERE true ${keyset}
          ORDER BY ${ARCHIVE_ORDER} LIMIT ${args.limit}::int
        )`
      : args.few
        ? sql`matches AS MATERIALIZED (
            SELECT p.id FROM papers p WHERE ${matchSql(args)} ${paperFilterSql(args.filter)}
          ),
          page AS (
            SELECT p.id, p.week_start, p.issue_id, p.section_number, p.position FROM matches JOIN papers p ON p.id = matches.id
            WHERE true ${visiblePapersByRow(vis)} ${keyset}
            ORDER BY ${ARCHIVE_ORDER} LIMIT ${args.limit}::int
          )`
        : sql`page AS (
            SELECT p.id, p.week_start, p.issue_id, p.section_number, p.position FROM papers p
            WHERE ${matchSql(args)} ${paperFilterSql(args.filter)} ${visiblePapersByRow(vis)} ${keyset}
            ORDER BY ${ARCHIVE_ORDER} LIMIT ${args.limit}::int
          )`;
  return sql`WITH ${page}
    SELECT ${PAPER_COLUMNS}, (${scoreSql(args)})::float8 AS score, ${headlinesSql(args, q)}${editionSelect(args)}
    FROM page JOIN papers p ON p.id = page.id ${editionJoin(args)}
    ORDER BY ${ARCHIVE_ORDER}`;
}

/**
 * Summaries this long or longer may hold positions past 16 383, which a search vector stores as 16 383 (several
 * lexemes then share one): rankBoundLexemes's bound is not taken for them. A position counts a word of the title or
 * the summary, each at least a character.
 */
const BOUNDED_TEXT_OCTETS = 16_000;

/**
 * CTEs `matched` (every match, at most EXACT_RANK_BOUND + 1: its score without the rank, `cheap`, and what bounds
 * its rank, `occurrences`) and `scored` (the matches whose `cheap + reach` reaches the `limit`-th highest `cheap`,
 * scored in full). A match left out scores at most `cheap + reach`, below the `limit` highest `cheap`, each at most
 * its own score: it cannot enter the page. `reach`: the rank of twice as many covers as the fewest occurrences of
 * the bound's lexemes in the summary (rankBoundLexemes; a lexeme's ts_rank_cd alone, unnormalized, is 0.4 an
 * occurrence), 1 for a summary too long to tell (no count). Why: ranking a match whose summary holds common words
 * of the query (`model`, `language`: many positions) costs ~15 µs, counting a rare word's occurrences ~0.2.
 */
function rankBoundedSql(args: SearchArgs, vis: Visibility, match: SQL, lexemes: readonly string[]): SQL {
  const counts = lexemes.map((l) => sql`ts_rank_cd(${SUMMARY_WEIGHTS}, p.search_vector, ${l}::tsquery, 0)`);
  // (the count kept, its rank computed when read: coversRank would repeat the counting three times)
  return sql`matched AS MATERIALIZED (
      SELECT p.id, ${scoreSql(args, false)} AS cheap,
        CASE WHEN octet_length(p.title) + octet_length(p.summary) < ${BOUNDED_TEXT_OCTETS}::int
          THEN round(least(${sql.join(counts, sql`, `)}) / 0.4::float4::float8) END AS occurrences
      FROM papers p
      WHERE ${match} ${paperFilterSql(args.filter)} ${visiblePapersByRow(vis)}
      LIMIT ${EXACT_RANK_BOUND + 1}::int
    ),
    scored AS MATERIALIZED (
      -- (a subquery per match: one primary-key read each, never a join the planner could make a scan of papers)
      SELECT m.id, (SELECT ${scoreSql(args)} FROM papers p WHERE p.id = m.id) AS score FROM matched m
      WHERE m.cheap + coalesce(${coversRank(sql`(2 * m.occurrences)`)}, 1::float8) >= coalesce(
        (SELECT f.cheap FROM matched f ORDER BY f.cheap DESC LIMIT 1 OFFSET ${Math.max(0, args.limit - 1)}::int), '-Infinity'
      ) - 1e-9
    )`;
}

/**
 * A one-word RELEVANCE page from paper_title_terms (first page, text mode):
 * the papers with the word in their title, read per summary count (highest
 * first) as the index hands them over — for each count, the `limit` most
 * recent — then scored by scoreSql like every other page, the visible ones
 * kept. For such a query a title match scores 3.5 + ts_rank_cd of the
 * summary, which is a function of that count alone (0.4c / (0.4c + 1) for a
 * word; for a hyphenated word, of its compound's count, each occurrence one
 * cover, worth less when stop words sit between its parts), +
 * RECENCY, which falls with every week of age (ties only within a week,
 * where `id DESC` orders them as the index does): a paper left out at a
 * count scores less than the last one taken there, so none can enter the
 * page while that one scores no more than the page's last. `exact` is false
 * when a count's last paper taken scores more (its count's others were
 * drafts a reader does not see) or the page is not full while a count is
 * (the caller then ranks the usual way), and when a paper taken does not
 * match the query (a hyphenated word stemmed into another's compound: not
 * known to happen, checked since the argument above assumes it cannot).
 * Above every paper without the word in its title (scopeMaxScoreOutside)
 * when the page is full.
 *
 * Each count's papers are taken by a range (`summary_count <= c`, in index
 * order, then those of count c kept), ordered exactly as the index is (DESC
 * NULLS LAST, as drizzle-kit wrote it): with `= c`, or DESC alone, the
 * planner sorts every paper of the count instead of reading the index.
 */
export function titleTermsPageSql(args: SearchArgs, vis: Visibility, lexeme: string): SQL {
  const n = sql`${args.limit}::int`;
  const q = matchQuery(args.terms, false);
  return sql`WITH RECURSIVE counts(c) AS (
      SELECT max(t.summary_count) FROM paper_title_terms t WHERE t.lexeme = ${lexeme}::text
      UNION ALL
      SELECT (SELECT max(t.summary_count) FROM paper_title_terms t WHERE t.lexeme = ${lexeme}::text AND t.summary_count < counts.c)
      FROM counts WHERE counts.c IS NOT NULL
    ),
    cand AS MATERIALIZED (
      SELECT pick.id, pick.rn FROM counts CROSS JOIN LATERAL (
        SELECT t.paper_id AS id, t.summary_count AS c,
          row_number() OVER (ORDER BY t.summary_count DESC NULLS LAST, t.week_start DESC NULLS LAST, t.paper_id DESC NULLS LAST) AS rn
        FROM (
          SELECT t.paper_id, t.summary_count, t.week_start FROM paper_title_terms t
          WHERE t.lexeme = ${lexeme}::text AND t.summary_count <= counts.c
          ORDER BY t.summary_count DESC NULLS LAST, t.week_start DESC NULLS LAST, t.paper_id DESC NULLS LAST LIMIT ${n}
        ) t
      ) pick
      WHERE counts.c IS NOT NULL AND pick.c = counts.c
    ),
    scored AS MATERIALIZED (
      SELECT p.id, cand.rn, ${scoreSql(args)} AS score, (true ${visiblePapersByRow(vis)}) AS visible,
        ts_match_vq(p.search_vector, ${q}) AS matched
      FROM cand JOIN papers p ON p.id = cand.id
    ),
    page AS (SELECT s.id, s.score FROM scored s WHERE s.visible ORDER BY s.score DESC, s.id DESC LIMIT ${n}),
    cut AS (SELECT CASE WHEN count(*) < ${n} THEN NULL ELSE min(page.score) END AS score FROM page),
    verdict AS (
      SELECT NOT EXISTS (SELECT 1 FROM scored s, cut WHERE s.rn = ${n} AND (cut.score IS NULL OR s.score > cut.score))
        AND NOT EXISTS (SELECT 1 FROM scored s WHERE NOT s.matched) AS exact
    )
    SELECT ${PAPER_COLUMNS}, page.score::float8 AS score, ${headlinesSql(args, q, servedSql(args, sql`(SELECT v.exact FROM verdict v)`))},
      (SELECT v.exact FROM verdict v) AS "exact"${editionSelect(args)}
    FROM page JOIN papers p ON p.id = page.id ${editionJoin(args)}
    ORDER BY page.score DESC, page.id DESC`;
}

/**
 * The edition's columns a page's papers carry (SearchArgs.issues), as one JSON array per paper ("edition"): the
 * values from the edition joined to each paper of the page (a primary-key lookup per paper of the page, in place of
 * a statement of the editions' loader). The page's papers are visible, so are their editions.
 */
function editionSelect(args: Pick<SearchArgs, 'issues'>): SQL {
  const columns = issueColumns(args.issues ?? 'none');
  if (columns.length === 0) return sql``;
  return sql.raw(`, json_build_array(${columns.map((c) => ISSUE.valueOf(c, 'i', c.column)).join(', ')}) AS "edition"`);
}

function editionJoin(args: Pick<SearchArgs, 'issues'>): SQL {
  return issueColumns(args.issues ?? 'none').length === 0 ? sql`` : sql`JOIN issues i ON i.id = p.issue_id`;
}

/** A row of a page statement before `toHit`: the paper, its score and its headlines (HEADLINES), its edition's columns. */
type HitRow = RawPaper & {
  score: number;
  titleHeadline: string | null;
  summaryHeadline: string | null;
  summaryHead: string | null;
  summaryTail: string | null;
  edition?: unknown[] | string | null;
};

/** A page's row as a SearchHit, carrying its edition when the page was asked for it (SearchArgs.issues). */
function toHit(raw: HitRow, issues: IssueMode | undefined): SearchHit {
  const { edition: values, ...row } = raw;
  const hit = toPaper(row) as unknown as SearchHit;
  hit.score = Number(row.score);
  if (issues !== undefined && issues !== 'none') {
    // (PGlite and pg both give json as parsed values; a string is the text of one)
    const list = typeof values === 'string' ? (JSON.parse(values) as unknown[]) : (values ?? []);
    hit.edition = issueFromValues(hit.issueId, issueColumns(issues), list);
  }
  return hit;
}

/** The rows of a title-terms page statement, and whether it says the page is exact (false when empty: the flag comes with the rows). */
/** A bounded title page: its rows, whether it is exact, and (boundedPageSql) the counts whose bounds reach its last score. */
export interface BoundedPage {
  rows: SearchHit[];
  exact: boolean;
  reaching: number[];
}

async function exactPage(db: Db, statement: SQL, issues: IssueMode | undefined): Promise<BoundedPage> {
  const rows = await selectRows<HitRow & { exact: boolean; reaching?: unknown[] | null }>(db, statement);
  return {
    rows: rows.map(({ exact: _e, reaching: _r, ...r }) => toHit(r, issues)),
    exact: rows.length > 0 && rows.every((r) => r.exact === true),
    reaching: (rows[0]?.reaching ?? []).map(Number),
  };
}

/** A page of titleTermsPageSql; `exact` as it says (false on an empty page: its flag comes with the rows). */
export async function titleTermsPage(
  db: Db,
  args: SearchArgs,
  vis: Visibility,
  lexeme: string,
): Promise<{ rows: SearchHit[]; exact: boolean }> {
  return exactPage(db, titleTermsPageSql(args, vis, lexeme), args.issues);
}

/**
 * A one-phrase RELEVANCE page from paper_title_terms (first page, text mode,
 * no filter): the papers with the phrase in their title, found through the
 * title words of its rarest lexeme in titles (every such paper holds it),
 * read per count of that lexeme in the summary (highest first), for each
 * count the `limit` most recent papers a reader sees whose title holds the
 * phrase (each checked on its row as the index hands it over), then scored
 * by scoreSql. Unlike one word, a phrase's score within these is not a
 * function of the count and the week alone (the title may or may not hold
 * the text as written; the summary may hold the lexeme outside the
 * phrase), so each count left unfinished gets a bound instead: at most 2 +
 * 1.5 + 2 (title as written, when the query has a space) + 0.4c / (0.4c + 1) (ts_rank_cd: at most one
 * cover of weight 0.4 per occurrence of the lexeme, each phrase occurrence
 * needing its own) + the freshness of the last paper taken there (older
 * ones have less). `exact` when the page is full and its last score is
 * above every such bound; the caller also checks it against the papers
 * without the phrase in their title (scopeMaxScoreOutside). One word that
 * the parser reads as several lexemes in a row (`Llama-3`) is such a phrase,
 * without the text as written.
 *
 * A phrase with synonyms (`"sparse autoencoder"` also finds SAE): the bounds
 * count the phrase's covers only, so every paper matching a synonym anywhere
 * is scored too (at most PHRASE_OTHERS_MAX of them, else not `exact`); the
 * others, found or not by the walk, have no cover but the phrase's.
 * `wholeCounts` takes every paper examined at those counts, which finishes
 * the counts whose entries the walk reads entirely, and moves the others'
 * edges to older papers: where a page's worth of them bounds the rest too
 * loosely (a title word whose count in the summary is rarely the phrase's).
 * The page says which counts' bounds reach its last score (`reaching`).
 */
/** How many title-word entries titlePhrasePageSql reads per count, at most, to find a page of titles holding the phrase. */
export const PHRASE_EXAMINED = 256;
/** Papers matching a phrase's other alternatives (its synonyms) that titlePhrasePageSql scores, at most (above, it declines). */
export const PHRASE_OTHERS_MAX = 1000;

/**
 * How titlePhrasePageSql reads a phrase's title terms: entries examined per count, and the counts whose
 * examined papers are all taken (the others: a page's worth).
 */
export interface PhraseWalk {
  examinedPerCount?: number;
  wholeCounts?: readonly number[];
  othersMax?: number;
}

export function titlePhrasePageSql(
  args: SearchArgs,
  vis: Visibility,
  lexemes: readonly string[],
  walk: PhraseWalk = {},
): SQL {
  const examinedPerCount = walk.examinedPerCount ?? PHRASE_EXAMINED;
  const othersMax = walk.othersMax ?? PHRASE_OTHERS_MAX;
  const n = sql`${args.limit}::int`;
  const whole = (walk.wholeCounts ?? []).filter((c) => Number.isInteger(c) && c >= 0);
  const take =
    whole.length === 0
      ? n
      : sql`(CASE WHEN k.c IN (${sql.join(
          whole.map((c) => sql`${c}::int`),
          sql`, `,
        )}) THEN ${examinedPerCount}::int ELSE ${n} END)`;
  const q = matchQuery(args.terms, false);
  const others = args.terms.groups[0]!.slice(1);
  // 2 + 1.5 (the group in the title), + 2 for the text as written when it has a space (scoreSql)
  const top = args.terms.fuzzy.includes(' ') ? '5.5' : '3.5';
  const visible = visiblePapersByRow(vis);
  const list = sql.join(
    lexemes.map((l) => sql`(${l}::text)`),
    sql`, `,
  );
  const keep = sql`ts_match_vq(p.search_vector, ${titleOnly(q)}) ${visible}`;
  return sql`WITH RECURSIVE lex AS MATERIALIZED (
      -- the phrase's rarest lexeme in titles, from the statistics (one missing from them is rare)
      SELECT l.lexeme FROM (VALUES ${list}) AS l(lexeme)
      LEFT JOIN (${commonValuesSql('paper_title_terms', 'lexeme', 'values')}) m ON m.val = l.lexeme
      ORDER BY coalesce(m.freq, 0), l.lexeme
      LIMIT 1
    ),
    ${titleWalkCtes('w', sql`(SELECT lexeme FROM lex)`, keep, take, examinedPerCount)},
    -- Each edge's bound, summed in the order scoreSql sums (2 + 1.5, + 2, + rank, + freshness): 5.5 (3.5
    -- for one word) + the rank of c covers + the edge's freshness.
    bounds AS (
      SELECT e.id, e.c, ((${sql.raw(top)}::float8 + ${coversRank(sql`e.c`)}) + ${recencyOf(sql`e.week`)})::float8 AS score FROM w_edges e
    )${
      others.length === 0
        ? sql``
        : sql`,
    -- every paper matching a synonym, anywhere (its covers are not the phrase's: no bound above holds for it)
    others AS MATERIALIZED (
      SELECT p.id FROM papers p WHERE p.search_vector @@ ${groupQuery(others)} LIMIT ${othersMax + 1}::int
    )`
    }
    ${
      others.length === 0
        ? boundedPageSql(args, q, sql`SELECT id FROM w_cand`, n)
        : boundedPageSql(
            args,
            q,
            sql`SELECT id FROM w_cand
                UNION SELECT p.id FROM others o JOIN papers p ON p.id = o.id
                WHERE (SELECT count(*) FROM others) <= ${othersMax}::int ${visible}`,
            n,
            sql`(SELECT count(*) FROM others) <= ${othersMax}::int`,
          )
    }`;
}

/**
 * The rank ts_rank_cd gives a summary, at most, with `covers` covers of
 * weight 0.4 (a float4: 0.4000000059604645) and nothing between their
 * words, as it computes it: W / (W + 1) rounded to a float4 — W raised by
 * 1e-12 first, more than its own rounding error, so that the float4 is never
 * below it; 0 without a cover. Summed as scoreSql sums, a paper at the bound
 * scores exactly it.
 */
const coversRank = (covers: SQL): SQL =>
  sql`(CASE WHEN ${covers} <= 0 THEN 0::float8
       ELSE (((${covers} * 0.4::float4::float8 * (1 + 1e-12)) / (${covers} * 0.4::float4::float8 * (1 + 1e-12) + 1))::float4)::float8 END)`;

/**
 * CTEs `<prefix>_counts`, `<prefix>_cand` and `<prefix>_edges`: a walk of one
 * lexeme's title terms (titlePhrasePageSql, titlePairPageSql). Per count of
 * the lexeme in the summary (highest first), the index entries in order, at
 * most `examinedPerCount` of them, each checked on its row (`keep`, on alias
 * `p`), the first `n` kept taken (`_cand`: id, c, week, rn, count). `_edges`:
 * per count, where the walk stopped — the n-th paper taken, else the last
 * examined if the walk ended inside the count (else every paper of the count
 * was examined: no edge); any paper of the count not taken is after it in
 * the index's order (older, or of its week with a lower id).
 *
 * Each count's papers are taken by a range (`summary_count <= c`, in index
 * order, then those of count c kept), ordered exactly as the index is (DESC
 * NULLS LAST, as drizzle-kit wrote it); the check is `ts_match_vq` (@@ as a
 * call), so that the planner reads the rows one by one in that order and
 * stops, rather than through a GIN bitmap of every match.
 */
function titleWalkCtes(prefix: string, lexeme: SQL, keep: SQL, n: SQL, examinedPerCount: number): SQL {
  const name = (suffix: string) => sql.raw(`${prefix}_${suffix}`);
  const counts = name('counts');
  const cand = name('cand');
  const order = sql`t.summary_count DESC NULLS LAST, t.week_start DESC NULLS LAST, t.paper_id DESC NULLS LAST`;
  return sql`${counts}(c) AS (
      SELECT max(t.summary_count) FROM paper_title_terms t WHERE t.lexeme = ${lexeme}
      UNION ALL
      SELECT (SELECT max(t.summary_count) FROM paper_title_terms t WHERE t.lexeme = ${lexeme} AND t.summary_count < k.c)
      FROM ${counts} k WHERE k.c IS NOT NULL
    ),
    ${cand} AS MATERIALIZED (
      SELECT pick.id, pick.c, pick.week, pick.rn, k.c AS count FROM ${counts} k CROSS JOIN LATERAL (
        SELECT x.id, x.c, x.week, row_number() OVER (ORDER BY x.c DESC NULLS LAST, x.week DESC NULLS LAST, x.id DESC NULLS LAST) AS rn
        FROM (
          SELECT t.paper_id AS id, t.summary_count AS c, t.week_start AS week
          FROM (
            SELECT t.paper_id, t.summary_count, t.week_start FROM paper_title_terms t
            WHERE t.lexeme = ${lexeme} AND t.summary_count <= k.c
            ORDER BY ${order} LIMIT ${examinedPerCount}::int
          ) t
          JOIN papers p ON p.id = t.paper_id
          WHERE ${keep}
          ORDER BY ${order} LIMIT ${n}
        ) x
      ) pick
      WHERE k.c IS NOT NULL AND pick.c = k.c
    ),
    ${name('edges')} AS (
      SELECT e.c, e.edge[1]::date AS week, e.edge[2]::int AS id FROM (
        SELECT k.c, coalesce(
            (SELECT ARRAY[x.week::text, x.id::text] FROM ${cand} x WHERE x.count = k.c AND x.rn = ${n}),
            (SELECT ARRAY[t.week_start::text, t.paper_id::text] FROM (
               SELECT t.summary_count, t.week_start, t.paper_id FROM paper_title_terms t
               WHERE t.lexeme = ${lexeme} AND t.summary_count <= k.c
               ORDER BY ${order} OFFSET ${examinedPerCount - 1}::int LIMIT 1
             ) t WHERE t.summary_count = k.c)
          ) AS edge
        FROM ${counts} k WHERE k.c IS NOT NULL
      ) e
      WHERE e.edge IS NOT NULL
    )`;
}

/**
 * The end of a bounded title page (after CTEs `bounds`: id, score): the
 * candidates (`candidates`, a SELECT of ids) scored by scoreSql, the best `n`,
 * and `exact` when the page is full and no bound reaches its last score: an
 * untaken paper behind an edge scores less than the edge's bound, or as much
 * only when of the edge's week with a lower id — then it ranks after a last
 * paper of a higher id.
 */
function boundedPageSql(args: SearchArgs, q: SQL, candidates: SQL, n: SQL, exactToo: SQL = sql`true`): SQL {
  return sql`,
    scored AS MATERIALIZED (
      SELECT p.id, ${scoreSql(args)} AS score FROM (${candidates}) c JOIN papers p ON p.id = c.id
    ),
    page AS (SELECT s.id, s.score FROM scored s ORDER BY s.score DESC, s.id DESC LIMIT ${n}),
    cut AS (
      SELECT CASE WHEN count(*) < ${n} THEN NULL ELSE min(page.score) END AS score,
        (SELECT l.id FROM page l ORDER BY l.score, l.id LIMIT 1) AS id
      FROM page
    ),
    verdict AS (
      SELECT (cut.score IS NOT NULL AND ${exactToo} AND NOT EXISTS (
        SELECT 1 FROM bounds b WHERE b.score > cut.score OR (b.score = cut.score AND b.id > cut.id)
      )) AS exact FROM cut
    )
    SELECT ${PAPER_COLUMNS}, page.score::float8 AS score, ${headlinesSql(args, q, servedSql(args, sql`(SELECT v.exact FROM verdict v)`))},
      (SELECT v.exact FROM verdict v) AS "exact",
      (SELECT array_agg(DISTINCT b.c) FROM bounds b
       WHERE cut.score IS NOT NULL AND (b.score > cut.score OR (b.score = cut.score AND b.id > cut.id))) AS "reaching"${editionSelect(args)}
    FROM page JOIN papers p ON p.id = page.id ${editionJoin(args)}, cut
    ORDER BY page.score DESC, page.id DESC`;
}

/** Both-words-in-title papers a pair's page scores, at most (above, titlePairPageSql declines). */
export const PAIR_BOTH_IN_TITLE_MAX = 1000;

/**
 * A RELEVANCE page for two plain words (first page, text mode, no filter)
 * from their title terms, when the papers holding a word in the title
 * decide it. Three sets: the papers with both words in their titles (the
 * two lists' intersection, at most PAIR_BOTH_IN_TITLE_MAX, all scored); and
 * for each word, the papers with it in the title and not the other, which
 * hold the other in the summary — walked per count of the title word in the
 * summary (titleWalkCtes), each count's edge bounded by 2 + 0.75 (half the
 * groups in the title; nothing of the text as written, which needs both) +
 * the rank of 2c − 1 covers (c the title word's count: every cover of the two
 * words holds an occurrence of each and begins where the other ends, so
 * there are fewer than 2c; none when c is 0, the word then being in the
 * title only, whose positions weigh nothing) + the edge's freshness. The
 * papers with neither word in the title score at most
 * scopeMaxScoreOutside(terms, 'title'), which the caller checks.
 */
export function titlePairPageSql(
  args: SearchArgs,
  vis: Visibility,
  lexemes: [string, string],
  bothInTitleMax = PAIR_BOTH_IN_TITLE_MAX,
): SQL {
  const n = sql`${args.limit}::int`;
  const q = matchQuery(args.terms, false);
  const [a, b] = lexemes;
  const [groupA, groupB] = args.terms.groups as [string[], string[]];
  const visible = visiblePapersByRow(vis);
  const keepA = sql`ts_match_vq(p.search_vector, ${q}) AND NOT ts_match_vq(p.search_vector, ${titleOnly(groupQuery(groupB))}) ${visible}`;
  const keepB = sql`ts_match_vq(p.search_vector, ${q}) AND NOT ts_match_vq(p.search_vector, ${titleOnly(groupQuery(groupA))}) ${visible}`;
  const bound = (edges: string) =>
    sql`SELECT e.id, e.c, ((2.75::float8 + ${coversRank(sql`(2 * e.c - 1)`)}) + ${recencyOf(sql`e.week`)})::float8 AS score
        FROM ${sql.raw(edges)} e`;
  return sql`WITH RECURSIVE both_titles AS MATERIALIZED (
      SELECT ta.paper_id AS id FROM paper_title_terms ta
      JOIN paper_title_terms tb ON tb.paper_id = ta.paper_id AND tb.lexeme = ${b}::text
      WHERE ta.lexeme = ${a}::text
      LIMIT ${bothInTitleMax + 1}::int
    ),
    ${titleWalkCtes('a', sql`${a}::text`, keepA, n, PHRASE_EXAMINED)},
    ${titleWalkCtes('b', sql`${b}::text`, keepB, n, PHRASE_EXAMINED)},
    bounds AS (${bound('a_edges')} UNION ALL ${bound('b_edges')})
    ${boundedPageSql(
      args,
      q,
      sql`SELECT p.id FROM both_titles x JOIN papers p ON p.id = x.id
          WHERE (SELECT count(*) FROM both_titles) <= ${bothInTitleMax}::int ${visible}
          UNION ALL SELECT id FROM a_cand UNION ALL SELECT id FROM b_cand`,
      n,
      sql`(SELECT count(*) FROM both_titles) <= ${bothInTitleMax}::int`,
    )}`;
}

/** A page of titlePairPageSql; `exact` as it says (false on an empty page); tests make `bothInTitleMax` small. */
export async function titlePairPage(
  db: Db,
  args: SearchArgs,
  vis: Visibility,
  lexemes: [string, string],
  bothInTitleMax = PAIR_BOTH_IN_TITLE_MAX,
): Promise<{ rows: SearchHit[]; exact: boolean }> {
  return exactPage(db, titlePairPageSql(args, vis, lexemes, bothInTitleMax), args.issues);
}

/** A page of titlePhrasePageSql; `exact` as it says (false on an empty page); tests make the walk short. */
export async function titlePhrasePage(
  db: Db,
  args: SearchArgs,
  vis: Visibility,
  lexemes: readonly string[],
  walk: PhraseWalk = {},
): Promise<BoundedPage> {
  return exactPage(db, titlePhrasePageSql(args, vis, lexemes, walk), args.issues);
}

/**
 * One page of search results, best (or newest) first; for RELEVANCE, how
 * many candidates were ranked (undefined on an empty page).
 */
export async function searchPageCounted(
  db: Db,
  args: SearchArgs,
  vis: Visibility,
): Promise<{ rows: SearchHit[]; candidateCount: number | undefined }> {
  type Row = HitRow & { candidateCount?: number };
  const read = (a: SearchArgs) =>
    a.scope === 'all' ? matchRows<Row>(db, a, searchPageSql(a, vis)) : selectRows<Row>(db, searchPageSql(a, vis));
  let rows = await read(args);
  if (args.order === 'RELEVANCE' && args.window != null) {
    // The window held fewer matches than the candidates: they are not "the most recent N"
    // of the whole archive. Rank those of the whole archive instead (same result as without a window).
    const found = rows[0]?.candidateCount ?? 0;
    if (found < (args.candidates ?? RELEVANCE_CANDIDATES)) rows = await read({ ...args, window: null });
  }
  const count = rows[0]?.candidateCount;
  return {
    rows: rows.map(({ candidateCount: _c, ...r }) => toHit(r, args.issues)),
    candidateCount: count === undefined || count === null ? undefined : Number(count),
  };
}

/** One page of search results, best (or newest) first. */
export async function searchPage(db: Db, args: SearchArgs, vis: Visibility): Promise<SearchHit[]> {
  return (await searchPageCounted(db, args, vis)).rows;
}

/** The planner's estimate of the rows of `SELECT 1 FROM papers p WHERE …` (EXPLAIN, from the statistics; no table access). */
async function estimateRows(db: Db, where: SQL): Promise<number> {
  const plan = await selectRows<{ 'QUERY PLAN': unknown }>(
    db,
    sql`EXPLAIN (FORMAT JSON) SELECT 1 FROM papers p WHERE ${where}`,
  );
  const raw = plan[0]?.['QUERY PLAN'];
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan?: { 'Plan Rows'?: number } }>;
  return Number(parsed?.[0]?.Plan?.['Plan Rows'] ?? 0);
}

/** The planner's estimate of the papers matching a text query. */
const estimateMatches = (db: Db, terms: SearchTerms): Promise<number> =>
  estimateRows(db, sql`p.search_vector @@ ${matchQuery(terms, false)}`);

/**
 * The compound lexeme of each hyphenated word, as tsquery text, when it has one: `'in-context'` for "in-context";
 * none for "GLM-4" (`glm`, `-4`).
 */
async function compoundLexemes(db: Db, words: readonly string[]): Promise<Map<string, string>> {
  if (words.length === 0) return new Map();
  const rows = await selectRows<{ i: number; q: string | null }>(
    db,
    sql`SELECT w.i, (SELECT quote_literal(u.lexeme) FROM unnest(to_tsvector('english', w.word)) u
          WHERE u.lexeme ~ '^[^-]+-[^-]' ORDER BY u.positions[1] LIMIT 1) AS q
        FROM (VALUES ${sql.join(
          words.map((w, i) => sql`(${i}::int, ${w}::text)`),
          sql`, `,
        )}) AS w(i, word)`,
  );
  return new Map(rows.filter((r) => r.q !== null).map((r) => [words[Number(r.i)]!, r.q!]));
}

/**
 * Estimated papers whose `vector` matches the groups of `terms` (all of them,
 * or `any`), with `filter`. The planner takes the lexemes of a phrase or a
 * hyphenated word as independent when they go together ("test-time
 * compute", "Llama-Nemotron"), and underestimates them by orders of
 * magnitude; such an alternative is estimated here by its rarest word
 * instead (an upper bound), a plain word by the planner, a group by the sum
 * of its alternatives, and the groups as independent of each other.
 */
async function estimateGroups(
  db: Db,
  terms: SearchTerms,
  vector: SQL,
  combine: 'all' | 'any',
  filter: SQL,
): Promise<number> {
  const filtered = await estimateRows(db, sql`true ${filter}`);
  if (filtered <= 0 || terms.groups.length === 0) return 0;
  const alternative = async (alt: string): Promise<number | null> => {
    const tokens = alt.replaceAll('"', ' ').split(/\s+/).filter(Boolean);
    if (tokens.length <= 1 && !alt.includes('"') && !HYPHENATED.test(tokens[0] ?? ''))
      return estimateRows(db, sql`${vector} @@ ${websearch(alt)} ${filter}`);
    // A hyphenated word by its compound lexeme alone (`in-context`: 3 % of the papers, where `in` is a stop word and
    // `context` is in half of them); the other words each by the planner.
    const hyphenated = tokens.filter((t) => HYPHENATED.test(t)).slice(0, 8);
    const compounds = await compoundLexemes(db, hyphenated);
    const words = tokens.flatMap((t) => (HYPHENATED.test(t) && compounds.get(t) ? [] : t.split('-'))).filter(Boolean);
    const each = await Promise.all([
      ...[...compounds.values()].map((lexeme) => estimateRows(db, sql`${vector} @@ ${lexeme}::tsquery ${filter}`)),
      ...words.slice(0, 8).map((w) => {
        const q = sql`plainto_tsquery('english', ${w}::text)`;
        // (a stop word is folded into a false condition: 0 rows, left out)
        return estimateRows(db, sql`${vector} @@ ${q} AND numnode(${q}) > 0 ${filter}`);
      }),
    ]);
    const counted = each.filter((n) => n > 0);
    return counted.length > 0 ? Math.min(...counted) : null;
  };
  const groups = await Promise.all(
    terms.groups.map(async (g) => {
      const alts = (await Promise.all(g.map(alternative))).filter((n): n is number => n !== null);
      return alts.length > 0
        ? Math.min(
            filtered,
            alts.reduce((a, b) => a + b, 0),
          )
        : null;
    }),
  );
  const shares = groups.filter((n): n is number => n !== null).map((n) => n / filtered);
  if (shares.length === 0) return 0;
  if (combine === 'any') return filtered * (1 - shares.reduce((p, share) => p * (1 - share), 1));
  return filtered * shares.reduce((p, share) => p * share, 1);
}

/**
 * The estimates, for RELEVANCE in text mode, of the papers each exact
 * ranking reads (src/search/papers.ts chooses with them): `all`, the matches
 * (for a phrase, the papers holding its words: the index hands them all
 * back for checking); `title` / `title-all`, the papers whose title matches
 * a group / every group (the title alone: its words are in the search vector
 * too, the two conditions are far from independent).
 */
export async function estimateRanking(
  db: Db,
  args: Pick<SearchArgs, 'terms' | 'filter'>,
): Promise<Record<'all' | 'title' | 'title-all', number>> {
  const filter = paperFilterSql(args.filter);
  const vector = sql`p.search_vector`;
  const [matches, words, title, titleAll] = await Promise.all([
    estimateRows(db, sql`p.search_vector @@ ${matchQuery(args.terms, false)} ${filter}`),
    estimateGroups(db, args.terms, vector, 'all', filter),
    estimateGroups(db, args.terms, TITLE_LEXEMES, 'any', filter),
    estimateGroups(db, args.terms, TITLE_LEXEMES, 'all', filter),
  ]);
  return { all: Math.max(matches, words), title, 'title-all': titleAll };
}

/** Below this many matches, NEWEST takes its page from all the matches (see `fewMatches`). */
export const FEW_MATCHES = 1000;

/**
 * For NEWEST in text mode: whether the query matches fewer than FEW_MATCHES
 * papers. Words missing from the statistics' most common elements (a typo, a
 * model name) are estimated at a fixed small share — 0.5 % of a million
 * papers — so the planner walks the archive order expecting a match every
 * few hundred rows, and walks all of it when there is none. When the
 * estimate is under 1 % of the papers, a count capped at FEW_MATCHES through
 * the GIN index (a bitmap scan: it costs what it finds) tells.
 */
export async function fewMatches(db: Db, args: Pick<SearchArgs, 'terms' | 'filter'>): Promise<boolean> {
  const estimate = await estimateMatches(db, args.terms);
  const { papers } = await archiveSize(db);
  if (papers > 0 && estimate >= 0.01 * papers) return false;
  const [row] = await selectRows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM (
          SELECT 1 FROM papers p WHERE p.search_vector @@ ${matchQuery(args.terms, false)} ${paperFilterSql(args.filter)} LIMIT ${FEW_MATCHES}::int
        ) m`,
  );
  return Number(row?.n ?? 0) < FEW_MATCHES;
}

/** Table sizes from the statistics, kept for a minute per database handle (they change slowly). */
const SIZE_TTL_MS = 60_000;
const sizeCache = new WeakMap<object, { at: number; papers: number; editions: number }>();

async function archiveSize(db: Db): Promise<{ papers: number; editions: number }> {
  const key = (db as unknown as { session: object }).session;
  const cached = sizeCache.get(key);
  if (cached && Date.now() - cached.at < SIZE_TTL_MS) return cached;
  const [sizes] = await selectRows<{ papers: number | string; issues: number | string }>(
    db,
    sql`SELECT (SELECT reltuples FROM pg_class WHERE oid = 'papers'::regclass)::float8 AS papers,
               (SELECT reltuples FROM pg_class WHERE oid = 'issues'::regclass)::float8 AS issues`,
  );
  const fresh = { at: Date.now(), papers: Number(sizes?.papers ?? 0), editions: Number(sizes?.issues ?? 0) };
  sizeCache.set(key, fresh);
  return fresh;
}

/** A lexeme of the papers' search vectors with the share of papers holding it (src/search/typos.ts corrects words against them). */
export interface CommonLexeme {
  lexeme: string;
  share: number;
}

const lexemeCache = new WeakMap<object, { at: number; lexemes: CommonLexeme[] }>();

/** Up to this many papers, the vocabulary is every lexeme of the archive (ts_stat over them, ~60 ms at 10 000 on PostgreSQL). */
const FULL_VOCABULARY_PAPERS = 10_000;

/**
 * The archive's vocabulary for typo correction, with each lexeme's share of
 * papers, kept a minute per database handle. Up to FULL_VOCABULARY_PAPERS
 * papers (or before any ANALYZE: PGlite has no autovacuum), every lexeme of
 * them (`ts_stat`); above, the common lexemes the planner's statistics hold
 * (`pg_stats.most_common_elems`, up to ten times the statistics target),
 * which cost nothing to read (`fullUpTo`: tests choose the way).
 */
export async function commonLexemes(db: Db, fullUpTo = FULL_VOCABULARY_PAPERS): Promise<CommonLexeme[]> {
  const key = (db as unknown as { session: object }).session;
  const cached = fullUpTo === FULL_VOCABULARY_PAPERS ? lexemeCache.get(key) : undefined;
  if (cached && Date.now() - cached.at < SIZE_TTL_MS) return cached.lexemes;
  const { papers } = await archiveSize(db);
  let rows: Array<{ lexeme: string; share: number }> = [];
  if (papers > fullUpTo) {
    rows = await selectRows<{ lexeme: string; share: number }>(
      db,
      sql`SELECT e.lexeme, e.share::float8 AS share
          FROM pg_stats s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(lexeme, share)
          WHERE s.schemaname = current_schema() AND s.tablename = 'papers' AND s.attname = 'search_vector'
            AND e.lexeme IS NOT NULL`,
    );
  }
  if (rows.length === 0) {
    const sample = `SELECT search_vector FROM papers LIMIT ${FULL_VOCABULARY_PAPERS}`;
    rows = await selectRows<{ lexeme: string; share: number }>(
      db,
      sql`SELECT s.word AS lexeme,
            s.ndoc::float8 / greatest(1, (SELECT count(*) FROM (SELECT 1 FROM papers LIMIT ${FULL_VOCABULARY_PAPERS}::int) n)) AS share
          FROM ts_stat(${sample}::text) s`,
    );
  }
  const lexemes = rows.map((r) => ({ lexeme: r.lexeme, share: Number(r.share) }));
  if (fullUpTo === FULL_VOCABULARY_PAPERS) lexemeCache.set(key, { at: Date.now(), lexemes });
  return lexemes;
}

/**
 * Runs `statement` over the items as `(VALUES (i, item), …)` and returns the
 * `value` column of its row for each item, null for an item without one.
 */
async function perItem<T>(db: Db, items: readonly string[], statement: (values: SQL) => SQL): Promise<(T | null)[]> {
  const out: (T | null)[] = items.map(() => null);
  if (items.length === 0) return out;
  const values = sql.join(
    items.map((item, i) => sql`(${i}::int, ${item}::text)`),
    sql`, `,
  );
  for (const r of await selectRows<{ i: number; value: T | null }>(db, statement(values))) {
    out[Number(r.i)] = r.value ?? null;
  }
  return out;
}

/**
 * For each lexeme, a word the search turns into it, or null: a stem is not
 * always its own stem (`represent` stems to `repres`), so the first of the
 * lexeme and it with a few endings the stemmer removes ("represente": not English, but what the search needs)
 * that gives the lexeme back.
 */
export async function searchableWords(db: Db, lexemes: readonly string[]): Promise<(string | null)[]> {
  return perItem<string>(
    db,
    lexemes,
    (values) => sql`SELECT e.i, (
          SELECT c.word
          FROM unnest(ARRAY[e.lexeme, e.lexeme || 'e', e.lexeme || 'ed', e.lexeme || 'ing', e.lexeme || 'ation',
                            e.lexeme || 's', e.lexeme || 'ive', regexp_replace(e.lexeme, 'i$', 'y')]) WITH ORDINALITY AS c(word, n)
          WHERE (SELECT u.lexeme FROM unnest(to_tsvector('english', c.word)) u ORDER BY u.positions[1] LIMIT 1) = e.lexeme
          ORDER BY c.n LIMIT 1
        ) AS value
        FROM (VALUES ${values}) AS e(i, lexeme)`,
  );
}

/**
 * For each lexeme, the words of these papers (titles, then summaries, in the
 * order given) that the search turns into it, as written, each once, in
 * order of appearance (at most 20); none when no word does.
 */
export async function writtenWords(
  db: Db,
  lexemes: readonly string[],
  paperIds: readonly number[],
): Promise<string[][]> {
  if (paperIds.length === 0) return lexemes.map(() => []);
  const ids = sql`ARRAY[${sql.join(
    paperIds.map((id) => sql`${id}::int`),
    sql`, `,
  )}]`;
  const found = await perItem<string[]>(
    db,
    lexemes,
    (values) => sql`SELECT e.i, (
          SELECT array_agg(f.word ORDER BY f.at) FROM (
            SELECT w.word, min(array_position(${ids}, p.id) * 100000 + w.n) AS at
            FROM papers p, regexp_split_to_table(p.title || ' ' || p.summary, '[^[:alnum:]-]+') WITH ORDINALITY AS w(word, n)
            WHERE p.id = ANY (${ids}) AND w.word <> ''
              AND (SELECT u.lexeme FROM unnest(to_tsvector('english', w.word)) u ORDER BY u.positions[1] LIMIT 1) = e.lexeme
            GROUP BY w.word ORDER BY at LIMIT 20
          ) f
        ) AS value
        FROM (VALUES ${values}) AS e(i, lexeme)`,
  );
  return found.map((words) => words ?? []);
}

/**
 * For each word, its first lexeme when no paper matches the word (a typo,
 * or a word foreign to the archive), else null (a match, or stop words
 * only). A word whose lexeme `isKnown` (in the vocabulary: commonLexemes)
 * matches without looking; the others are counted through the GIN index,
 * which for a lexeme the statistics do not hold hands back few rows or none.
 * (Not `EXISTS`: for a lexeme missing from the statistics the planner
 * expects 0.5 % of the papers to match and walks the table for the first
 * one — all of it when there is none, 0.6 s at a million papers.)
 */
export async function unmatchedLexemes(
  db: Db,
  words: readonly string[],
  isKnown: (lexeme: string) => boolean,
): Promise<(string | null)[]> {
  const lexemes = await perItem<string>(
    db,
    words,
    (values) => sql`SELECT e.i, (
          SELECT u.lexeme FROM unnest(to_tsvector('english', e.word)) u ORDER BY u.positions[1] LIMIT 1
        ) AS value
        FROM (VALUES ${values}) AS e(i, word)`,
  );
  // (only the words whose lexeme the vocabulary does not hold are counted; the others stay null)
  const unknown = words.map((w, i) => (lexemes[i] != null && !isKnown(lexemes[i]!) ? w : ''));
  const absent = await perItem<boolean>(
    db,
    unknown,
    (values) => sql`SELECT e.i, true AS value FROM (VALUES ${values}) AS e(i, word)
        WHERE e.word <> ''
          AND (SELECT count(*) FROM papers p WHERE p.search_vector @@ websearch_to_tsquery('english', e.word)) = 0`,
  );
  return words.map((_, i) => (absent[i] ? lexemes[i]! : null));
}

/** Share of papers a query must match, at most, for RELEVANCE to look for its candidates in a window of recent editions. */
const WINDOW_MAX_SHARE = 0.1;
/** Window size: this many times the papers expected to hold the candidates. */
const WINDOW_SAFETY = 2;

/**
 * For RELEVANCE in text mode: the week from which the most recent
 * RELEVANCE_CANDIDATES matches are expected to lie, or null to search the
 * whole archive. Words in more than WINDOW_MAX_SHARE of papers are found fast
 * by walking the archive order (each visited row matches often); words with
 * few matches, by the GIN index alone. In between (say 0.5–10 % of papers)
 * both are slow at a million papers — the walk visits tens of thousands of
 * rows, the index hands back tens of thousands of matches to sort — so the
 * candidates are looked for only in the editions expected to hold them
 * (WINDOW_SAFETY times as many papers): the planner then combines the GIN
 * index with the week range (or, for a phrase, whose words are often far
 * more common than the phrase, walks the window in archive order). The
 * estimate is the planner's own (EXPLAIN, from the column statistics); if it
 * was wrong, searchPage widens the window.
 */
export async function relevanceWindow(
  db: Db,
  args: Pick<SearchArgs, 'terms' | 'filter'>,
  n = RELEVANCE_CANDIDATES,
): Promise<RelevanceWindow | null> {
  if (args.filter && Object.values(args.filter).some((v) => v != null)) return null;
  const estimate = await estimateMatches(db, args.terms);
  const { papers, editions } = await archiveSize(db);
  if (!(papers > 0 && editions > 0) || estimate < 3 * n || estimate > WINDOW_MAX_SHARE * papers) return null;
  const windowPapers = (WINDOW_SAFETY * n * papers) / estimate;
  const windowIssues = Math.ceil(windowPapers / (papers / editions));
  if (windowIssues >= editions) return null;
  const [bound] = await selectRows<{ week: string }>(
    db,
    sql`SELECT week_start::text AS week FROM issues ORDER BY week_start DESC, id DESC OFFSET ${windowIssues}::int LIMIT 1`,
  );
  if (!bound?.week) return null;
  // A phrase is checked on the rows the GIN index hands back for all its words, which are
  // often common ("mixture of experts"): reading those costs more than walking the window.
  return { since: bound.week, walk: args.terms.phrase };
}

/**
 * totalCount and facets count this many matches at most; a search matching
 * more gets estimates (searchCounts), as large search engines give.
 */
export const EXACT_COUNT_BOUND = 2_000;

/**
 * The statement counting matches per category, up to EXACT_COUNT_BOUND + 1 of
 * them (exported for EXPLAIN in tests). Relaxed mode counts what its pages
 * rank, the bounded candidate set: checking every title similar to a typo
 * costs seconds at a million papers (tens of thousands share its trigrams).
 */
export function searchFacetsSql(
  args: Pick<SearchArgs, 'mode' | 'terms' | 'filter' | 'termsQuery'>,
  vis: Visibility,
): SQL {
  if (args.mode === 'fuzzy')
    return sql`WITH ${candidatesSql(args, vis, RELEVANCE_CANDIDATES)}
      SELECT p.category_id AS "categoryId", count(*)::int AS count FROM cand JOIN papers p ON p.id = cand.id
      GROUP BY p.category_id`;
  // The table's blocks where the counted matches begin and end, and how many it has: searchCounts extrapolates.
  // Drafts are left out row by row: a join with the editions would read the papers in the editions' order.
  return sql`WITH m AS MATERIALIZED (
      SELECT p.category_id, (p.ctid::text::point)[0] AS block FROM papers p
      WHERE ${everyMatchSql(args)} ${paperFilterSql(args.filter)} ${visiblePapersByRow(vis)}
      LIMIT ${EXACT_COUNT_BOUND + 1}::int
    )
    SELECT m.category_id AS "categoryId", count(*)::int AS count,
      (SELECT min(block) FROM m)::float8 AS "firstBlock", (SELECT max(block) FROM m)::float8 AS "lastBlock",
      (pg_relation_size('papers') / current_setting('block_size')::int)::float8 AS blocks
    FROM m GROUP BY m.category_id`;
}

/** How many papers a search matches, and how many per category. */
export interface SearchCounts {
  total: number;
  /** false: more than EXACT_COUNT_BOUND matches (relaxed: a bounded candidate set reached its bound), `total` is the planner's estimate (at least the matches counted) and the facets are scaled to it. */
  exact: boolean;
  /** Every category with a match (their counts add up to `total`). */
  facets: SearchFacetRow[];
}

/**
 * Counts the matches per category (every paper has one category, so they add
 * up to the total): exactly up to EXACT_COUNT_BOUND; above, the total is the
 * planner's estimate (at least the matches counted) and each category's
 * share that of the matches counted (the first ones in the table's order).
 */
export async function searchCounts(
  db: Db,
  args: Pick<SearchArgs, 'mode' | 'terms' | 'filter' | 'termsQuery'>,
  vis: Visibility,
): Promise<SearchCounts> {
  const rows = await matchRows<{
    categoryId: number;
    count: number;
    firstBlock?: number | null;
    lastBlock?: number | null;
    blocks?: number | null;
  }>(db, args, searchFacetsSql(args, vis));
  const facets = rows.map((r) => ({ categoryId: Number(r.categoryId), count: Number(r.count) }));
  const counted = facets.reduce((n, f) => n + f.count, 0);
  // (relaxed: the candidate set is exact while neither of its bounds was reached)
  const bound = args.mode === 'fuzzy' ? RELEVANCE_CANDIDATES - 1 : EXACT_COUNT_BOUND;
  if (counted <= bound) return { total: counted, exact: true, facets };
  const estimate =
    args.mode === 'fuzzy'
      ? await estimateRows(db, sql`${matchSql(args)} ${paperFilterSql(args.filter)}`)
      : extrapolated(counted, rows[0] ?? {});
  const total = Math.max(counted, Math.round(estimate));
  return { total, exact: false, facets: scaleCounts(facets, total) };
}

/**
 * The matches of a text search from the first ones counted, in the table's order (a bitmap or sequential scan
 * reads its blocks in order): counted in blocks first…last, none before first, so the rest of the table is taken
 * to hold them as densely as first…last does. Papers are written week after week: a subject of recent weeks
 * begins late in the table, which `first` accounts for (the planner's estimate, from the statistics of single
 * words, is orders of magnitude off for a phrase: BENCHMARKS.md).
 */
function extrapolated(
  counted: number,
  at: { firstBlock?: number | null; lastBlock?: number | null; blocks?: number | null },
): number {
  const first = Number(at.firstBlock ?? 0);
  const last = Number(at.lastBlock ?? 0);
  const blocks = Number(at.blocks ?? 0);
  if (!(blocks > last && last >= first)) return counted;
  return (counted * (blocks - first)) / (last - first + 1);
}

/** Counts scaled proportionally to add up to `total` (largest remainders get the rounding). */
export function scaleCounts(facets: SearchFacetRow[], total: number): SearchFacetRow[] {
  const sum = facets.reduce((n, f) => n + f.count, 0);
  const shares = facets.map((f) => (f.count * total) / sum);
  const scaled = facets.map((f, i) => ({ categoryId: f.categoryId, count: Math.floor(shares[i]!) }));
  let left = total - scaled.reduce((n, f) => n + f.count, 0);
  const byRemainder = shares.map((v, i) => [v - Math.floor(v), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    scaled[i]!.count++;
  }
  return scaled;
}

/**
 * The paper carrying this arXiv id (without version). When several editions
 * carry it, the newest visible one.
 */
export async function paperByArxivId(db: Db, arxivId: string, vis: Visibility): Promise<PaperRow | null> {
  const rows = await selectRows<RawPaper>(
    db,
    sql`SELECT ${PAPER_COLUMNS} FROM papers p WHERE p.arxiv_id = ${arxivId} ${visiblePapers(vis)}
        ORDER BY p.week_start DESC, p.id DESC LIMIT 1`,
  );
  const first = rows[0];
  return first ? toPaper(first) : null;
}

/**
 * The papers carrying these arXiv ids (without version), one statement: for
 * each id, the newest visible paper carrying it (as `paperByArxivId`).
 */
export async function papersByArxivIds(db: Db, arxivIds: readonly string[], vis: Visibility): Promise<PaperRow[]> {
  if (arxivIds.length === 0) return [];
  const rows = await selectRows<RawPaper>(
    db,
    sql`SELECT DISTINCT ON (p.arxiv_id) ${PAPER_COLUMNS} FROM papers p
        WHERE p.arxiv_id IN (${sql.join(
          arxivIds.map((id) => sql`${id}::text`),
          sql`, `,
        )}) ${visiblePapers(vis)}
        ORDER BY p.arxiv_id, p.week_start DESC, p.id DESC`,
  );
  return rows.map(toPaper);
}

/** How many of a paper's terms make its "related" query, and how common a term may be (share of papers). */
const RELATED_TERMS = 6;
const RELATED_MAX_FREQUENCY = 0.02;
/**
 * How many papers sharing the terms are ranked per source paper: the first
 * ones the GIN bitmap yields (physical order), read lazily from a
 * MATERIALIZED CTE so that the heap scan stops there.
 */
export const RELATED_CANDIDATES = 200;

/**
 * The statement of `relatedPapers` (exported for EXPLAIN in tests). For each
 * source paper: its RELATED_TERMS rarest lexemes (frequencies from the
 * planner's statistics, `pg_stats.most_common_elems`; a lexeme missing from
 * them is rare; title lexemes count as twice as rare), turned into a query
 * matching papers that share at least two of them (an OR of pairs, so that
 * the GIN index returns few rows); at most RELATED_CANDIDATES of them are
 * ranked by ts_rank.
 */
export function relatedPapersSql(paperIds: readonly number[], limit: number, vis: Visibility): SQL {
  return sql`WITH stats AS MATERIALIZED (
      SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs
      FROM pg_stats s
      WHERE s.schemaname = current_schema() AND s.tablename = 'papers' AND s.attname = 'search_vector'
    )
    SELECT src.id AS "sourceId", r.*
    FROM ${idValues(paperIds, 'want')}
    JOIN papers src ON src.id = want.id
    CROSS JOIN LATERAL (
      WITH terms AS (
        SELECT '''' || replace(replace(u.lexeme, '\\', '\\\\'), '''', '''''') || '''' AS quoted, u.lexeme
        FROM unnest(src.search_vector) u
        LEFT JOIN stats ON true
        WHERE coalesce(stats.freqs[array_position(stats.elems, u.lexeme)], 0) <= ${RELATED_MAX_FREQUENCY}
          AND length(u.lexeme) > 1
        ORDER BY coalesce(stats.freqs[array_position(stats.elems, u.lexeme)], 0)
                   * CASE WHEN 'A' = ANY(u.weights::text[]) THEN 0.5 ELSE 1 END,
                 cardinality(u.positions) DESC, u.lexeme
        LIMIT ${RELATED_TERMS}
      )
      SELECT CASE WHEN (SELECT count(*) FROM terms) = 1 THEN (SELECT quoted FROM terms)
                  ELSE (SELECT string_agg(a.quoted || ' & ' || b.quoted, ' | ') FROM terms a JOIN terms b ON a.lexeme < b.lexeme)
             END AS text
    ) tq
    CROSS JOIN LATERAL (
      WITH hits AS MATERIALIZED (
        SELECT p.id FROM papers p
        WHERE tq.text IS NOT NULL AND p.search_vector @@ tq.text::tsquery
          AND p.issue_id <> src.issue_id AND p.id <> src.id ${visiblePapersByRow(vis)}
      ),
      cand AS (SELECT hits.id FROM hits LIMIT ${RELATED_CANDIDATES}::int)
      SELECT ${PAPER_COLUMNS}, ts_rank(p.search_vector, tq.text::tsquery)::float8 AS score
      FROM cand JOIN papers p ON p.id = cand.id
      ORDER BY score DESC, p.id DESC
      LIMIT ${limit}::int
    ) r
    ORDER BY src.id, r.score DESC, r.id DESC`;
}

/** Papers of other editions that share terms with each source paper, best first, at most `limit` each. */
export async function relatedPapers(
  db: Db,
  paperIds: readonly number[],
  limit: number,
  vis: Visibility,
): Promise<Map<number, PaperRow[]>> {
  const out = new Map<number, PaperRow[]>(paperIds.map((id) => [id, []]));
  if (paperIds.length === 0 || limit < 1) return out;
  const rows = await selectRows<RawPaper & { sourceId: number; score: number }>(
    db,
    relatedPapersSql(paperIds, limit, vis),
  );
  for (const r of rows) {
    const { sourceId, score: _score, ...paper } = r;
    out.get(Number(sourceId))?.push(toPaper(paper));
  }
  return out;
}
