import { parseArxivIdentifier } from '../../newsletter/arxiv.js';
import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import type { Context } from '../../context.js';
import type { PaperKey, Visibility } from '../../db/queries/papers.js';
import {
  FUZZY_CANDIDATES,
  MARK_END,
  RELATED_CANDIDATES,
  RELEVANCE_CANDIDATES,
  MARK_START,
  type SearchFacetRow,
  type SearchHit,
  type SearchMode,
  type SearchOrder,
  analyzeQuery,
  fewMatches,
  relevanceWindow,
  fuzzyWords,
  paperByArxivId,
  relatedPapers,
  searchFacets,
  searchPage,
} from '../../db/queries/search.js';
import type { CategoryRow, PaperRow } from '../../db/schema.js';
import { builder } from '../builder.js';
import { userInputError } from '../errors.js';
import { type CursorCodec, encodeCursor, isIsoDate, windowFromArgs } from '../pagination.js';
import { CategoryRef, PaperRef } from '../refs.js';
import { PaperFilter } from './inputs.js';
import { paperFilterArgs } from './paper.js';

/** Longest accepted search text, in characters. */
export const MAX_QUERY_LENGTH = 500;
/** Below this many full-text hits, titles similar to the words (typos) are searched too. */
const FUZZY_BELOW = 3;
const MAX_RELATED = 50;

// ---------------------------------------------------------------------------
// Text matches: fragments with the offsets of the matched words
// ---------------------------------------------------------------------------

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

function matchesOf(hit: SearchHit, mode: SearchMode, query: string): TextMatchShape[] {
  const out: TextMatchShape[] = [];
  const title = parseHeadline(hit.titleHeadline);
  const titleRanges = mode === 'fuzzy' ? mergeRanges([...title.highlights, ...similarWordRanges(title.fragment, query)]) : title.highlights;
  if (titleRanges.length > 0) out.push({ field: 'TITLE', fragment: title.fragment, highlights: titleRanges });
  const summary = parseHeadline(hit.summaryHeadline);
  if (summary.highlights.length > 0) out.push({ field: 'SUMMARY', fragment: summary.fragment, highlights: summary.highlights });
  return out;
}

// ---------------------------------------------------------------------------
// GraphQL types
// ---------------------------------------------------------------------------

export const SearchOrderEnum = builder.enumType('SearchOrder', {
  description: 'Order of search results.',
  values: {
    RELEVANCE: {
      description: `Best match first (\`score\`, highest first): matches in the title count more than in the summary. Relevance among the ${RELEVANCE_CANDIDATES.toLocaleString('en')} most recent matches: a search with fewer matches is ranked exactly; one with more ranks its ${RELEVANCE_CANDIDATES.toLocaleString('en')} most recent matches (newest edition first), so its pages end there even when \`totalCount\` is larger. Use NEWEST to go through every match.`,
    },
    NEWEST: { description: 'Newest edition first, then by number inside an edition (as `Query.papers`).' },
  },
});

export const TextMatchFieldEnum = builder.enumType('TextMatchField', {
  description: 'The field of a paper a text match was found in.',
  values: {
    TITLE: { description: 'The title of the paper.' },
    SUMMARY: { description: 'The newsletter’s summary of the paper.' },
  },
});

const HighlightRef = builder.objectRef<Highlight>('TextMatchHighlight').implement({
  description: 'Where a matched word is in a fragment: `fragment.slice(start, end)` is the word.',
  fields: (t) => ({
    start: t.exposeInt('start', { description: 'Offset of the first character of the match in the fragment (UTF-16 code units, from 0).' }),
    end: t.exposeInt('end', { description: 'Offset just after the last character of the match (exclusive).' }),
  }),
});

const TextMatchRef = builder.objectRef<TextMatchShape>('TextMatch').implement({
  description: 'A piece of a field of the paper that matched the search, with the matched words marked by offsets.',
  fields: (t) => ({
    field: t.field({ type: TextMatchFieldEnum, description: 'The field the fragment comes from.', resolve: (m) => m.field }),
    fragment: t.exposeString('fragment', {
      description: 'The text around the matches: the whole title, or one or two passages of the summary joined by " … ".',
    }),
    highlights: t.field({
      type: [HighlightRef],
      description: 'The matched words in `fragment`, in order.',
      resolve: (m) => m.highlights,
    }),
  }),
});

interface FacetShape {
  categoryId: number;
  count: number;
}

const CategoryFacetRef = builder.objectRef<FacetShape>('CategoryFacet').implement({
  description: 'How many results of a search are in one category.',
  fields: (t) => ({
    category: t.field({
      type: CategoryRef,
      description: 'The category.',
      resolve: async (f, _a, ctx): Promise<CategoryRow> => {
        const category = await ctx.loaders.categoryById.load(f.categoryId);
        if (!category) throw new Error(`category ${f.categoryId} not found`);
        return category;
      },
    }),
    count: t.exposeInt('count', { description: 'Number of results in this category (all pages).' }),
  }),
});

interface SearchEdgeShape {
  cursor: string;
  node: PaperRow;
  score: number;
  matches: TextMatchShape[];
}

interface SearchConnectionShape {
  edges: SearchEdgeShape[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  facets: () => Promise<SearchFacetRow[]>;
}

export const PaperSearchConnection = builder.connectionObject(
  {
    type: PaperRef,
    name: 'PaperSearchConnection',
    description: 'A page of search results.',
    fields: (t) => ({
      totalCount: t.int({
        description:
          'Number of matches of the search (all of them: with RELEVANCE, more than the pages reach when the search matches more papers than are ranked). Exact, computed only when asked for, by counting every match: it costs in proportion to the number of matches (seconds for a word found in a third of a million-paper archive).',
        resolve: async (conn) => {
          const facets = await (conn as unknown as SearchConnectionShape).facets();
          return facets.reduce((n, f) => n + f.count, 0);
        },
      }),
      facets: t.field({
        type: [CategoryFacetRef],
        description:
          'Matches per category, most first; the counts add up to `totalCount` (computed with it, by the same statement, at the same cost).',
        resolve: (conn) => (conn as unknown as SearchConnectionShape).facets(),
      }),
    }),
  },
  {
    name: 'PaperSearchEdge',
    description: 'A search result: the paper, its cursor, how well it matched and where.',
    fields: (t) => ({
      score: t.float({
        description: 'Relevance of the match (higher is better; comparable within one search only).',
        resolve: (edge) => (edge as unknown as SearchEdgeShape).score,
      }),
      matches: t.field({
        type: [TextMatchRef],
        description: 'Where the paper matched: a fragment of each matching field with the offsets of the matched words.',
        resolve: (edge) => (edge as unknown as SearchEdgeShape).matches,
      }),
    }),
  },
);

// ---------------------------------------------------------------------------
// Cursors: tagged with the search they belong to and the mode it ran in
// ---------------------------------------------------------------------------

type SearchCursor = [SearchMode, ...(number | string)[]];

const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 2_147_483_647;
const isPos = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 999;

function searchCodec(query: string, filter: unknown, order: SearchOrder): CursorCodec<SearchCursor> {
  const tag = createHash('sha256').update(JSON.stringify([query, filter ?? null, order])).digest('base64url').slice(0, 10);
  return {
    kind: `search:${tag}`,
    validate: (v) => {
      if (!Array.isArray(v) || (v[0] !== 'text' && v[0] !== 'fuzzy')) return null;
      if (order === 'RELEVANCE') {
        return v.length === 3 && typeof v[1] === 'number' && Number.isFinite(v[1]) && v[1] >= 0 && v[1] < 1e6 && isId(v[2])
          ? [v[0], v[1], v[2]]
          : null;
      }
      return v.length === 5 && isIsoDate(v[1]) && isId(v[2]) && isPos(v[3]) && isPos(v[4]) ? [v[0], v[1], v[2], v[3], v[4]] : null;
    },
  };
}

/** Checks the search text before any SQL: not empty, not too long, no NUL. */
export function checkSearchText(query: string): string {
  if (query.includes('\u0000')) throw userInputError('`query` must not contain NUL characters', 'query');
  if (query.length > MAX_QUERY_LENGTH) {
    throw userInputError(`\`query\` is too long: at most ${MAX_QUERY_LENGTH} characters (got ${query.length})`, 'query');
  }
  const trimmed = query.trim();
  if (trimmed === '') throw userInputError('`query` must not be empty', 'query');
  return trimmed;
}

const emptyConnection = (): SearchConnectionShape => ({
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  facets: async () => [],
});

builder.queryFields((t) => ({
  searchPapers: t.field({
    type: PaperSearchConnection,
    description:
      `Full-text search over titles and summaries, with web-style syntax: \`reward model\` (all words), \`"chain of thought"\` (a phrase), \`-vision\` (without), \`rlhf or dpo\` (either). Words are stemmed (English); titles weigh more than summaries. RELEVANCE (the default) ranks the ${RELEVANCE_CANDIDATES.toLocaleString('en')} most recent matches (see \`SearchOrder.RELEVANCE\`). When the words find (almost) nothing and the query has no quoted phrase, titles with similar words are found too (typos: "Llama Nemotorn" finds Llama-Nemotron); at most ${FUZZY_CANDIDATES} such titles, the first the trigram index yields, are ranked. A query of stop words only ("the of") has no results.`,
    args: {
      query: t.arg.string({ required: true, description: 'What to look for (1 to 500 characters).' }),
      first: t.arg.int({ description: 'Return the first N results (1 to 100; default 20).' }),
      after: t.arg.string({ description: 'Return results after this cursor (from a previous page of the same search).' }),
      filter: t.arg({ type: PaperFilter, description: 'Restrict the results (categories, edition, weeks).' }),
      orderBy: t.arg({ type: SearchOrderEnum, defaultValue: 'RELEVANCE', description: 'Order of the results; default RELEVANCE.' }),
    },
    resolve: async (_root, args, ctx) => {
      const query = checkSearchText(args.query);
      const filter = paperFilterArgs(args.filter);
      const order: SearchOrder = args.orderBy ?? 'RELEVANCE';
      const codec = searchCodec(query, filter, order);
      const window = windowFromArgs({ first: args.first, after: args.after }, 'DESC', codec);
      const vis: Visibility = { drafts: ctx.viewer.canSeeDrafts };

      const analysis = await analyzeQuery(ctx.db, query);
      if (analysis.nodes === 0) return emptyConnection() as never;
      if (!analysis.indexable) {
        throw userInputError('`query` needs at least one word to look for (not only excluded `-words`)', 'query');
      }

      const cursorKey = window.cursor ? (window.cursor.slice(1) as [number, number] | PaperKey) : null;
      let mode: SearchMode = window.cursor?.[0] ?? 'text';
      // RELEVANCE in text mode: where to look for the candidates (see relevanceWindow).
      const relevance = order === 'RELEVANCE' && mode === 'text' ? await relevanceWindow(ctx.db, { query, filter }) : null;
      const few = order === 'NEWEST' && mode === 'text' ? await fewMatches(ctx.db, { query, filter }) : false;
      const base = { query, filter, order, cursor: cursorKey, window: relevance, few };
      // On the first page, fetch enough rows to tell whether full text found "little".
      let rows = await searchPage(ctx.db, { ...base, mode, limit: window.cursor ? window.limit : Math.max(window.limit, FUZZY_BELOW) }, vis);
      // Typo tolerance, unless the query asks for an exact phrase.
      if (!window.cursor && rows.length < FUZZY_BELOW && !query.includes('"') && fuzzyWords(query) !== '') {
        mode = 'fuzzy';
        rows = await searchPage(ctx.db, { ...base, window: null, mode, limit: window.limit }, vis);
      }
      rows = rows.slice(0, window.limit);

      const hasMore = rows.length > window.size;
      const page = hasMore ? rows.slice(0, window.size) : rows;
      const keyOf = (r: SearchHit): SearchCursor =>
        order === 'RELEVANCE' ? [mode, r.score, r.id] : [mode, r.weekStart, r.issueId, r.sectionNumber, r.position];
      const edges = page.map((r) => {
        ctx.loaders.paperById.prime(r.id, r);
        const { score, titleHeadline: _t, summaryHeadline: _s, ...paper } = r;
        return { cursor: encodeCursor(codec, keyOf(r)), node: paper, score, matches: matchesOf(r, mode, query) };
      });
      let facets: Promise<SearchFacetRow[]> | null = null;
      const conn: SearchConnectionShape = {
        edges,
        pageInfo: {
          hasNextPage: hasMore,
          hasPreviousPage: window.cursor !== null,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges[edges.length - 1]?.cursor ?? null,
        },
        // totalCount and facets come from the same statement, run once and only when asked for.
        facets: () => {
          facets ??= searchFacets(ctx.db, { query, filter, mode }, vis).then((rows) =>
            rows.sort((a, b) => b.count - a.count || a.categoryId - b.categoryId),
          );
          return facets;
        },
      };
      return conn as never;
    },
  }),

  paperByIdentifier: t.field({
    type: PaperRef,
    nullable: true,
    description:
      'The paper carrying an arXiv identifier, given as an id with or without version (`2505.03335`, `2505.03335v2`, `arXiv:2505.03335`), an arXiv abs/pdf URL (`https://arxiv.org/abs/2505.03335v1`), or an arXiv DOI (`10.48550/arXiv.2505.03335`, also as `https://doi.org/…`). `null` when no (visible) paper carries it.',
    args: { id: t.arg.string({ required: true, description: 'The identifier, in any of the forms above.' }) },
    resolve: async (_root, args, ctx) => {
      const arxivId = parseArxivIdentifier(args.id);
      if (!arxivId) {
        throw userInputError('`id` is not an arXiv id, arXiv URL or arXiv DOI (e.g. `2505.03335`)', 'id');
      }
      const paper = await paperByArxivId(ctx.db, arxivId, { drafts: ctx.viewer.canSeeDrafts });
      if (paper) ctx.loaders.paperById.prime(paper.id, paper);
      return paper;
    },
  }),
}));

// ---------------------------------------------------------------------------
// Paper.related, batched per request
// ---------------------------------------------------------------------------

const relatedLoaders = new WeakMap<Context, Map<number, DataLoader<number, PaperRow[]>>>();

function relatedLoader(ctx: Context, first: number): DataLoader<number, PaperRow[]> {
  let byFirst = relatedLoaders.get(ctx);
  if (!byFirst) {
    byFirst = new Map();
    relatedLoaders.set(ctx, byFirst);
  }
  let loader = byFirst.get(first);
  if (!loader) {
    loader = new DataLoader<number, PaperRow[]>(async (ids) => {
      const related = await relatedPapers(ctx.db, ids, first, { drafts: ctx.viewer.canSeeDrafts });
      for (const rows of related.values()) for (const r of rows) ctx.loaders.paperById.prime(r.id, r);
      return ids.map((id) => related.get(id) ?? []);
    });
    byFirst.set(first, loader);
  }
  return loader;
}

builder.objectField(PaperRef, 'related', (t) =>
  t.field({
    type: [PaperRef],
    description:
      `Papers from other editions about the same things (sharing at least two of this paper’s most distinctive terms), best first among the first ${RELATED_CANDIDATES} such papers the full-text index yields (not necessarily the best of the whole archive).`,
    args: {
      first: t.arg.int({ defaultValue: 5, description: `How many papers (1 to ${MAX_RELATED}; default 5).` }),
    },
    resolve: (paper, args, ctx) => {
      const first = args.first ?? 5;
      if (!Number.isInteger(first) || first < 1 || first > MAX_RELATED) {
        throw userInputError(`\`first\` must be between 1 and ${MAX_RELATED} (got ${first})`, 'first');
      }
      return relatedLoader(ctx, first).load(paper.id);
    },
  }),
);
