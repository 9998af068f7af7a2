import type { CategoryRow, IssueRow, PaperRow, SectionRow } from '../db/schema.js';
import { builder } from './builder.js';
import type { Connection } from './pagination.js';

// Object refs are declared here, implemented in ./types/*, so that type files
// can point at each other without import cycles.
export const IssueRef = builder.objectRef<IssueRow>('Issue');
export const CategoryRef = builder.objectRef<CategoryRow>('Category');
export const PaperRef = builder.objectRef<PaperRow>('Paper');
/** A section; when loaded with its edition it already carries its category and papers. */
export type SectionShape = SectionRow & { category?: CategoryRow; papers?: PaperRow[] };
export const SectionRef = builder.objectRef<SectionShape>('Section');

export type PaperConnectionShape = Connection<PaperRow>;
export type IssueConnectionShape = Connection<IssueRow>;
