import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.js';

/**
 * `graphql()` typed by the API's schema, for the tests: a document written
 * with it carries its result and variables types, and `gql()`
 * (helpers/http.ts) returns `data` of that type. `graphql-env.d.ts` is
 * generated from `schema.graphql` (`npm run test:types`); tests/schema.test.ts
 * fails when it is stale.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  // Fragments are plain field sets: a test reads their fields without readFragment().
  disableMasking: true;
  scalars: {
    /** `2025-05-05` */
    Date: string;
    /** ISO 8601, UTC */
    DateTime: string;
    URL: string;
  };
}>();

export type { ResultOf, VariablesOf } from 'gql.tada';
