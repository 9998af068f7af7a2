import type { CategoryRow } from '../db/schema.js';
import { builder } from './builder.js';
import type { IssueShape, PaperShape, SectionShape } from './shapes.js';

// Object refs are declared here, implemented in ./types/*, so that type files
// can point at each other without import cycles.
export const IssueRef = builder.objectRef<IssueShape>('Issue');
export const CategoryRef = builder.objectRef<CategoryRow>('Category');
export const PaperRef = builder.objectRef<PaperShape>('Paper');
export const SectionRef = builder.objectRef<SectionShape>('Section');
