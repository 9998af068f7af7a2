import type { IssueView } from '../db/read-model/issue.js';
import type { PaperView } from '../db/read-model/paper.js';
import type { CategoryRow, IssueRow, SectionRow } from '../db/schema.js';
import type { Connection } from './pagination.js';

/*
 * What the resolvers of each object type get, apart from the refs (refs.ts
 * needs the builder, and the builder the context): the loaders return these.
 */

/** An edition: a whole row, or a slice carried by a page of papers (see IssueMode): fields not carried are absent. */
export type IssueShape = IssueView;
/** A paper: a whole row, or one of a list read with some PaperColumns; a page's papers may carry their edition. */
export type PaperShape = PaperView & { edition?: IssueView };
/** A section; when loaded with its edition it already carries its category and papers. */
export type SectionShape = SectionRow & { category?: CategoryRow; papers?: PaperShape[] };

export type PaperConnectionShape = Connection<PaperShape>;
export type IssueConnectionShape = Connection<IssueRow>;
