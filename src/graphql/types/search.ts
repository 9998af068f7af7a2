import {
  EXACT_COUNT_BOUND,
  EXACT_RANK_BOUND,
  FUZZY_CANDIDATES,
  RELATED_CANDIDATES,
  RELEVANCE_CANDIDATES,
  paperByArxivId,
} from '../../db/queries/search.js';
import type { CategoryRow } from '../../db/schema.js';
import { parseArxivIdentifier } from '../../newsletter/arxiv.js';
import type { Highlight, TextMatchShape } from '../../search/highlights.js';
import { type SearchEdge, type SearchResults, checkSearchText, searchPapers } from '../../search/papers.js';
import { builder } from '../builder.js';
import { userInputError } from '../errors.js';
import { paperIssueMode, selectsPath } from '../lookahead.js';
import { CategoryRef, PaperRef } from '../refs.js';
import { PaperFilter } from './inputs.js';
import { paperFilterArgs } from './paper.js';

/** The GraphQL face of search (src/search/ runs it): its types, `searchPapers`, `paperByIdentifier`, `Paper.related`. */

const MAX_RELATED = 50;

export const SearchOrderEnum = builder.enumType('SearchOrder', {
  description: 'Order of search results.',
  values: {
    RELEVANCE: {
      description: `Best match first (\`score\`, highest first): matches in the title count more than in the summary. Every match is ranked when a search has at most ${EXACT_RANK_BOUND.toLocaleString('en')} of them (any archive of this newsletter); a search with more ranks its ${RELEVANCE_CANDIDATES.toLocaleString('en')} most recent matches (newest edition first), says so with \`exhaustive: false\`, and its pages end there even when \`totalCount\` is larger. Use NEWEST to go through every match.`,
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
    start: t.exposeInt('start', {
      description: 'Offset of the first character of the match in the fragment (UTF-16 code units, from 0).',
    }),
    end: t.exposeInt('end', { description: 'Offset just after the last character of the match (exclusive).' }),
  }),
});

const TextMatchRef = builder.objectRef<TextMatchShape>('TextMatch').implement({
  description: 'A piece of a field of the paper that matched the search, with the matched words marked by offsets.',
  fields: (t) => ({
    field: t.field({
      type: TextMatchFieldEnum,
      description: 'The field the fragment comes from.',
      resolve: (m) => m.field,
    }),
    fragment: t.exposeString('fragment', {
      description:
        'The text around the matches: the whole title, or one or two passages of the summary joined by " … ".',
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

export const PaperSearchConnection = builder.connectionObject(
  {
    type: PaperRef,
    name: 'PaperSearchConnection',
    description: 'A page of search results.',
    fields: (t) => ({
      relaxed: t.boolean({
        description:
          'Whether nothing matched every word of the query, so the results are the best partial matches instead: those of the query with its typos corrected (a word that matches nothing replaced by the closest word of the archive), or papers matching some of the words (most first), or, when the query has no quoted phrase, titles with words similar to those of its words that match nothing (typos). `false` when every result matches every word as written.',
        resolve: (conn) => (conn as unknown as SearchResults).relaxed,
      }),
      correctedQuery: t.string({
        nullable: true,
        description:
          'The query as searched when words of it matched no paper and were corrected (typos): the reader’s text with each corrected word replaced by the archive’s word, as the best results write it (`resaoning` → "reasoning"), to show as "showing results for …"; `null` when nothing was corrected. The results are then `relaxed`.',
        resolve: (conn) => (conn as unknown as SearchResults).correctedQuery(),
      }),
      exhaustive: t.boolean({
        description: `Whether the order covers every match: \`true\` unless RELEVANCE found more than ${EXACT_RANK_BOUND.toLocaleString('en')} matches, in which case it ranks the ${RELEVANCE_CANDIDATES.toLocaleString('en')} most recent of them and the pages hold the best of those (in relaxed mode: more than ${RELEVANCE_CANDIDATES.toLocaleString('en')} partial matches). NEWEST is always exhaustive.`,
        resolve: (conn) => (conn as unknown as SearchResults).exhaustive,
      }),
      totalCount: t.int({
        description: `Number of matches of the search (all of them: with RELEVANCE, more than the pages reach when the search is not \`exhaustive\`). Exact up to ${EXACT_COUNT_BOUND.toLocaleString('en')} matches, counted; above, an estimate (more than ${EXACT_COUNT_BOUND.toLocaleString('en')}) from how densely the first ${EXACT_COUNT_BOUND.toLocaleString('en')} occur in the part of the archive they were counted in: see \`totalCountIsExact\`. When \`relaxed\`, the partial matches the pages rank (exact below ${RELEVANCE_CANDIDATES.toLocaleString('en')}). Computed only when asked for (with \`facets\`, by one statement).`,
        resolve: async (conn) => (await (conn as unknown as SearchResults).counts()).total,
      }),
      totalCountIsExact: t.boolean({
        description: `Whether \`totalCount\` and the \`facets\` are exact counts: \`false\` when the search matches more than ${EXACT_COUNT_BOUND.toLocaleString('en')} papers, whose count is then estimated (as large search engines do, "about 120,000 results"). Computed with \`totalCount\`.`,
        resolve: async (conn) => (await (conn as unknown as SearchResults).counts()).exact,
      }),
      facets: t.field({
        type: [CategoryFacetRef],
        description:
          'Matches per category, most first; the counts add up to `totalCount` (computed with it, by the same statement). When `totalCountIsExact` is false, estimates: each category’s share of the matches counted, scaled to `totalCount`.',
        resolve: async (conn) => (await (conn as unknown as SearchResults).counts()).facets,
      }),
    }),
  },
  {
    name: 'PaperSearchEdge',
    description: 'A search result: the paper, its cursor, how well it matched and where.',
    fields: (t) => ({
      score: t.float({
        description: 'Relevance of the match (higher is better; comparable within one search only).',
        resolve: (edge) => (edge as unknown as SearchEdge).score,
      }),
      matches: t.field({
        type: [TextMatchRef],
        description:
          'Where the paper matched: a fragment of each matching field with the offsets of the matched words.',
        resolve: (edge) => (edge as unknown as SearchEdge).matches,
      }),
    }),
  },
);

builder.queryFields((t) => ({
  searchPapers: t.field({
    type: PaperSearchConnection,
    description: `Full-text search over titles and summaries, with web-style syntax: \`reward model\` (all words), \`"chain of thought"\` (a phrase), \`-vision\` (without: it only filters), \`rlhf or dpo\` (either). Words are stemmed (English), and the domain vocabulary's acronyms and spelled-out forms match each other (\`rl\` finds "reinforcement learning", \`chain of thought\` finds "CoT"). Ranking: papers whose title holds every word (or the phrase) first, then by how much of the query the title holds, then by frequency and proximity of the words; recency breaks ties. RELEVANCE (the default) ranks every match up to ${EXACT_RANK_BOUND.toLocaleString('en')} of them (see \`exhaustive\`). When no paper matches every word, the search relaxes (see \`relaxed\`). First, unless the query has a quoted phrase, each word that matches no paper is corrected to the closest word of the archive (one letter inserted, dropped, changed or swapped with its neighbour, two from 8 letters; the commonest on a tie; above 10,000 papers, among the archive's common words): \`resaoning\` gives the results of \`reasoning\`, ranked, counted and paged as its own (see \`correctedQuery\`). When the query, corrected or not, still matches nothing, papers matching some of the words, most first, and, unless the query has a quoted phrase, titles with similar words (typos: "Llama Nemotorn" finds Llama-Nemotron; at most ${FUZZY_CANDIDATES} such titles, the first the trigram index yields). Exact matches are never mixed with typo matches. A query of stop words only ("the of") has no results.`,
    args: {
      query: t.arg.string({ required: true, description: 'What to look for (1 to 500 characters).' }),
      first: t.arg.int({ description: 'Return the first N results (1 to 100; default 20).' }),
      after: t.arg.string({
        description: 'Return results after this cursor (from a previous page of the same search).',
      }),
      filter: t.arg({ type: PaperFilter, description: 'Restrict the results (categories, edition, weeks).' }),
      orderBy: t.arg({
        type: SearchOrderEnum,
        defaultValue: 'RELEVANCE',
        description: 'Order of the results; default RELEVANCE.',
      }),
    },
    resolve: async (_root, args, ctx, info) => {
      // The text is checked before the filter (its errors come first).
      const query = checkSearchText(args.query);
      const filter = paperFilterArgs(args.filter);
      const results = await searchPapers(
        {
          db: ctx.db,
          visibility: { drafts: ctx.viewer.canSeeDrafts },
          onPaper: (p) => ctx.loaders.paperById.prime(p.id, p),
        },
        {
          query,
          first: args.first,
          after: args.after,
          filter,
          order: args.orderBy ?? 'RELEVANCE',
          // (the headlines are computed only for pages that show them)
          matches: selectsPath(info, ['edges', 'matches']),
          // (each paper's edition, as far as selected, read in the page's statement: no statement of the loader)
          issues: paperIssueMode(info),
        },
      );
      return results as never;
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

// Paper.related: batched per request by the request's loaders (one statement per `first`).
builder.objectField(PaperRef, 'related', (t) =>
  t.field({
    type: [PaperRef],
    description: `Papers from other editions about the same things (sharing at least two of this paper’s most distinctive terms), best first among the first ${RELATED_CANDIDATES} such papers the full-text index yields (not necessarily the best of the whole archive).`,
    args: {
      first: t.arg.int({ defaultValue: 5, description: `How many papers (1 to ${MAX_RELATED}; default 5).` }),
    },
    resolve: (paper, args, ctx) => {
      const first = args.first ?? 5;
      if (!Number.isInteger(first) || first < 1 || first > MAX_RELATED) {
        throw userInputError(`\`first\` must be between 1 and ${MAX_RELATED} (got ${first})`, 'first');
      }
      return ctx.loaders.related(first).load(paper.id);
    },
  }),
);
