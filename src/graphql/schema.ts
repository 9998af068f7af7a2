import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './types/errors.js';
import './types/inputs.js';
import './types/paper.js';
import './types/category.js';
import './types/section.js';
import './types/issue.js';
import './types/import.js';
import './types/issue-mutations.js';
import './types/paper-mutations.js';
import './types/category-mutations.js';
import './types/subscriptions.js';
import './types/search.js';
import './types/citation.js';

/** The executable schema, built once. */
export const schema = builder.toSchema({ sortSchema: false });

/** The SDL committed as schema.graphql (sorted, so diffs stay readable). */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
