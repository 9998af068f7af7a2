import { printSubgraphSchema } from '@apollo/subgraph';
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
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
import './types/webhook.js';
import { checkRepresentations } from './types/federation.js';

/** The executable schema, built once. */
export const schema = builder.toSchema({ sortSchema: false });

/** The SDL committed as schema.graphql (sorted, so diffs stay readable). */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

let subgraph: GraphQLSchema | undefined;

/**
 * The schema as an Apollo Federation subgraph (FEDERATION=on): the plain
 * schema plus `_service { sdl }`, `_entities` and the entities' @key
 * directives. Built on first use.
 */
export function subgraphSchema(): GraphQLSchema {
  if (!subgraph) {
    subgraph = builder.toSubGraphSchema({
      sortSchema: false,
      linkUrl: 'https://specs.apollo.dev/federation/v2.6',
      federationDirectives: ['@key'],
    });
    // Representations are checked first: the library's own errors (no __typename, an unknown type or key)
    // would be masked as internal errors.
    const entities = subgraph.getQueryType()?.getFields()._entities;
    const resolve = entities?.resolve;
    if (entities && resolve) {
      entities.resolve = (source, args, context, info) => {
        checkRepresentations(args.representations);
        return resolve(source, args, context, info);
      };
    }
  }
  return subgraph;
}

/** The subgraph SDL committed as schema.federation.graphql (with its directives, as composition reads it). */
export function printedSubgraphSchema(): string {
  return `${printSubgraphSchema(lexicographicSortSchema(subgraphSchema()))}\n`;
}
