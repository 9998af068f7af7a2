import { type PaperRow, papers } from '../schema.js';
import { type ColumnSet, type FullRow, ReadModel, type RowView } from './model.js';

/** A selection name that stands for a page's cursors (no GraphQL field has it). */
export const CURSOR = '%cursor';
/** The fields that format a reference to the paper (src/graphql/types/citation.ts). */
const CITATION_FIELDS = ['citation', 'bibtex'] as const;
/** The fields that need the paper's place in the archive (edition, week, section number, position). */
const PLACE_FIELDS = ['number', 'sectionNumber', 'position', ...CITATION_FIELDS, CURSOR] as const;

/**
 * A paper as the API reads it: each column once, in the order of the JSON
 * arrays that lists are built as (see model.ts). Adding a column to the API
 * is adding it here (and to the table).
 */
export const PAPER = new ReadModel('Paper', papers, {
  id: { load: 'key' },
  // Where the paper is: read by lists only when a selected field needs it (a cursor, its number, its edition or
  // category), as PostgreSQL pays for each value a list's JSON array carries; CURSOR stands for the page's
  // cursors (edges' and pageInfo's), which are built from the place.
  issueId: { load: 'lookahead', section: 'issueId', fields: ['issue', ...PLACE_FIELDS] },
  sectionId: { load: 'lookahead', section: 'id', fields: [] },
  categoryId: { load: 'lookahead', section: 'categoryId', fields: ['category'] },
  weekStart: { load: 'lookahead', group: 'place', section: 'weekStart', fields: PLACE_FIELDS },
  sectionNumber: {
    load: 'lookahead',
    group: 'place',
    section: 'number',
    fields: PLACE_FIELDS,
    api: { type: 'Int', description: 'Number of the section it is in ("2" of "2.3").' },
  },
  position: {
    load: 'lookahead',
    group: 'place',
    fields: PLACE_FIELDS,
    api: { type: 'Int', description: 'Position inside its section ("3" of "2.3").' },
  },
  title: {
    load: 'lookahead',
    fields: ['title', ...CITATION_FIELDS],
    api: { type: 'String', description: 'Title of the paper, as the newsletter printed it.' },
  },
  url: {
    load: 'lookahead',
    fields: ['url', ...CITATION_FIELDS],
    api: { type: 'URL', nullable: true, description: 'Link to the paper, when known.' },
  },
  arxivId: {
    load: 'lookahead',
    fields: ['arxivId', ...CITATION_FIELDS],
    api: {
      type: 'String',
      nullable: true,
      description: 'arXiv identifier without version, e.g. `2505.03335`, when known.',
    },
  },
  version: {
    load: 'lookahead',
    api: {
      type: 'Int',
      description: 'Changes with every edit of the paper; pass it back to update it (optimistic concurrency).',
    },
  },
  createdAt: {
    load: 'lookahead',
    group: 'times',
    api: { type: 'DateTime', description: 'When it was added to the archive.' },
  },
  updatedAt: { load: 'lookahead', group: 'times', api: { type: 'DateTime', description: 'When it was last changed.' } },
  // The summary is most of a row's bytes; the number as written is rare: lists load them only when asked for.
  summary: { load: 'detail' },
  numberAsWritten: { load: 'detail' },
});

type PaperSpecs = typeof PAPER extends ReadModel<infer _R, infer S> ? S : never;
type Row = (typeof papers)['$inferSelect'];

/** Which of a paper's lookahead columns a list reads (createdAt and updatedAt are one group, `times`). */
export type PaperColumns = ColumnSet<PaperSpecs>;
/** A paper of a list read with some PaperColumns: the columns not read are absent. */
export type PaperView = RowView<Row, PaperSpecs>;

// The declaration and schema.ts's PaperRow must describe the same row.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const rowsAgree: Same<FullRow<Row, PaperSpecs>, PaperRow> = true;
void rowsAgree;

export const ALL_PAPER_COLUMNS: PaperColumns = PAPER.all;

/** A PaperColumns in a statement name: a bit per group. */
export function columnsKey(c: PaperColumns): string {
  return PAPER.key(c);
}
