import { type IssueRow, issues } from '../schema.js';
import { type FullRow, type LookaheadColumns, type ReadColumn, ReadModel, type RowView } from './model.js';

/**
 * An edition as the API reads it, each column once. Its lookahead columns
 * are the fields a paper list can carry with each paper (see IssueMode), in
 * the order they follow the paper's in its JSON array.
 */
export const ISSUE = new ReadModel('Issue', issues, {
  id: { load: 'key' },
  slug: { load: 'lookahead', api: { type: 'String', description: 'URL-friendly unique name, e.g. `2025-05-05`.' } },
  title: { load: 'lookahead', api: { type: 'String', description: 'Title of the edition, as published.' } },
  subtitle: { load: 'lookahead', api: { type: 'String', description: 'Subtitle (may be empty).' } },
  weekStart: { load: 'lookahead', api: { type: 'Date', description: 'First day of the week the edition covers.' } },
  weekEnd: { load: 'lookahead', api: { type: 'Date', description: 'Last day of the week the edition covers.' } },
  status: { load: 'lookahead' },
  publishedAt: {
    load: 'lookahead',
    api: { type: 'DateTime', nullable: true, description: 'When it was published; `null` for a draft.' },
  },
  version: {
    load: 'lookahead',
    api: {
      type: 'Int',
      description: 'Changes with every edit of the edition; pass it back to update it (optimistic concurrency).',
    },
  },
  createdAt: { load: 'lookahead', api: { type: 'DateTime', description: 'When it was added to the archive.' } },
  updatedAt: { load: 'lookahead', api: { type: 'DateTime', description: 'When it was last changed.' } },
  intro: { load: 'lookahead', api: { type: 'String', description: 'Introduction, in Markdown.' } },
  outro: {
    load: 'lookahead',
    api: { type: 'String', description: 'Closing text after the last paper, in Markdown (may be empty).' },
  },
  asides: { load: 'lookahead' },
  tableOfContents: { load: 'lookahead' },
  importWarnings: { load: 'lookahead' },
});

type IssueSpecs = typeof ISSUE extends ReadModel<infer _R, infer S> ? S : never;
type Row = (typeof issues)['$inferSelect'];

/** The fields of an edition besides its id, as IssueRow names them. */
export type IssueField = LookaheadColumns<IssueSpecs>;
/** An edition carried by a page with some of its fields only (the others are absent; see IssueMode). */
export type IssueView = RowView<Row, IssueSpecs>;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const rowsAgree: Same<FullRow<Row, IssueSpecs>, IssueRow> = true;
void rowsAgree;

export const ISSUE_FIELDS: readonly IssueField[] = ISSUE.groups as IssueField[];

/**
 * Which of its edition's columns each paper of a page carries (GraphQL looks
 * ahead at the fields selected on `issue`): none; the listed fields only
 * (besides the id, which every paper has), enough for the usual "title of
 * the edition" and for anything below it that goes by the edition's id; or
 * `full`, the whole row (also for the loader of editions).
 */
export type IssueMode = 'none' | 'full' | readonly IssueField[];

/** The edition's columns a page carries for an IssueMode, in the order of their JSON values. */
export function issueColumns(mode: IssueMode): readonly ReadColumn[] {
  if (mode === 'none') return [];
  return ISSUE.carried(mode === 'full' ? ISSUE.all : ISSUE.setOf(mode)).filter((c) => c.load !== 'key');
}

/** An IssueMode in a statement name: '', 'full_', or 'i' and a bit per field. */
export function issueModeKey(mode: IssueMode): string {
  if (mode === 'none') return '';
  if (mode === 'full') return 'full_';
  return `i${ISSUE.key(ISSUE.setOf(mode))}_`;
}

/** How a page statement selects an edition's column from the joined edition (alias `i`). */
export function carriedIssueSelect(c: ReadColumn): string {
  return `i.${c.column} AS i_${c.column}`;
}

/** How the page's JSON array carries that column (alias `p`, the page), after the paper's. */
export function carriedIssueJson(c: ReadColumn): string {
  return ISSUE.valueOf(c, 'p', `i_${c.column}`);
}

/**
 * An edition from the values of some of its fields as they follow a paper's
 * in a page: the same values as Drizzle's own mapping gives; the fields not
 * carried are absent (the row is then a slice: see `isSliceOf`).
 */
export function issueFromValues(id: number, columns: readonly ReadColumn[], values: readonly unknown[]): IssueView {
  return ISSUE.decodeSlice(columns, values, { id });
}
