import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.js';

/**
 * `graphql()` typed by the API's schema: `graphql-env.d.ts` is the
 * introspection of `schema.graphql` as a type (`npx gql.tada generate-output`),
 * and every document written with it carries its result and variables types.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  // Fragments are plain field sets here: no readFragment() needed to use them.
  disableMasking: true;
  scalars: {
    /** `2025-05-05` */
    Date: string;
    /** ISO 8601, UTC */
    DateTime: string;
    URL: string;
  };
}>();

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada';
export { readFragment } from 'gql.tada';
