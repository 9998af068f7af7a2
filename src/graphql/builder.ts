import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import ErrorsPlugin from '@pothos/plugin-errors';
import FederationPlugin from '@pothos/plugin-federation';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError, GraphQLScalarType, type ValueNode } from 'graphql';
import { DateResolver, DateTimeResolver, URLResolver } from 'graphql-scalars';
import type { Context } from './context.js';
import { DATE_RANGE } from '../newsletter/dates.js';
import { decodeGlobalId, encodeGlobalId } from './global-id.js';

/** Root fields that need an admin token (the others that need a token take an editor's): for the error's message. */
const ADMIN_FIELDS = new Set([
  'webhooks',
  'webhook',
  'createWebhook',
  'updateWebhook',
  'deleteWebhook',
  'rotateWebhookSecret',
  'redeliverWebhookDelivery',
]);

/**
 * The schema builder: plugins, scalars and empty root types only. Object
 * types live in ./types, one file each.
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    Date: { Input: Date; Output: Date | string };
    DateTime: { Input: Date; Output: Date | string };
    URL: { Input: URL; Output: URL | string };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  AuthScopes: {
    /** An editor or admin token. */
    editor: boolean;
    /** An admin token. */
    admin: boolean;
  };
}>({
  // Federation only adds entity keys; `toSchema` stays the plain schema (see schema.ts's subgraphSchema).
  plugins: [DirectivesPlugin, ScopeAuthPlugin, ErrorsPlugin, RelayPlugin, FederationPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      editor: ctx.viewer.kind === 'editor' || ctx.viewer.kind === 'admin',
      admin: ctx.viewer.kind === 'admin',
    }),
    // Checked before the resolver runs: a forbidden mutation changes nothing.
    unauthorizedError: (_parent, ctx, info) => {
      const needs = ADMIN_FIELDS.has(info.fieldName) ? 'an admin token' : 'an editor token';
      return new GraphQLError(
        ctx.viewer.kind === 'anonymous'
          ? `This needs ${needs}: send "Authorization: Bearer <token>"`
          : `Your token’s scope does not allow this (it needs ${needs})`,
        { extensions: { code: 'FORBIDDEN' } },
      );
    },
  },
  errors: {
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName[0]!.toUpperCase()}${fieldName.slice(1)}Result`,
    },
  },
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesOnConnection: {
      description: 'The nodes of the page, without the edges (a shortcut for `edges { node }`).',
    },
    encodeGlobalID: encodeGlobalId,
    decodeGlobalID: (id) => decodeGlobalId(id),
    nodeTypeOptions: { description: 'An object with a globally unique, opaque ID; fetch it again with `Query.node`.' },
    pageInfoTypeOptions: { description: 'Where a page sits in a connection, and the cursors to move on from it.' },
    nodeQueryOptions: {
      description: 'Fetches any object by its global ID. `null` when nothing (visible to you) has that ID.',
      args: { id: { description: 'The global ID of the object.' } },
    },
    nodesQueryOptions: {
      description:
        'Fetches several objects by their global IDs, in the same order; `null` for those that do not exist.',
      args: { ids: { description: 'Global IDs of the objects (at most 100).' } },
    },
    idFieldOptions: { description: 'Globally unique, opaque ID of this object.' },
    cursorFieldOptions: { description: 'Opaque cursor of this edge: pass it as `after` or `before`.' },
    nodeFieldOptions: { description: 'The item at the end of this edge.', nullable: false },
    edgesFieldOptions: {
      description: 'The edges of the page, each with its cursor.',
      nullable: { list: false, items: false },
    },
    pageInfoFieldOptions: { description: 'Information to fetch the next or previous page.' },
    hasNextPageFieldOptions: { description: 'Whether more items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether items precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first item of the page.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of the page.' },
    firstArgOptions: { description: 'Return the first N items (1 to 100; default 20).' },
    lastArgOptions: { description: 'Return the last N items (1 to 100).' },
    afterArgOptions: { description: 'Return items after this cursor.' },
    beforeArgOptions: { description: 'Return items before this cursor.' },
    defaultConnectionTypeOptions: { description: 'A page of items.' },
    defaultEdgeTypeOptions: { description: 'An item of a page, with its cursor.' },
  },
});

const MIN_TIME = Date.UTC(1900, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Whether a date (or instant) is within DATE_RANGE. */
export function isDateInRange(date: Date): boolean {
  const time = date.getTime();
  return time >= MIN_TIME && time <= MAX_TIME;
}

/**
 * A graphql-scalars date scalar whose inputs must also lie within
 * DATE_RANGE; every bad input — malformed or out of range, literal or
 * variable — is a BAD_USER_INPUT error.
 */
function boundedDateScalar(scalar: GraphQLScalarType): GraphQLScalarType {
  const config = scalar.toConfig();
  const badInput = (message: string, node?: ValueNode) =>
    new GraphQLError(message, {
      ...(node ? { nodes: node } : {}),
      extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
    });
  const check = (parse: () => unknown, input: unknown, node?: ValueNode): Date => {
    let value: unknown;
    try {
      value = parse();
    } catch (error) {
      throw badInput(error instanceof Error ? error.message : `${config.name} cannot represent ${String(input)}`, node);
    }
    if (!(value instanceof Date) || !isDateInRange(value)) {
      throw badInput(
        `${config.name} must be between ${DATE_RANGE.min} and ${DATE_RANGE.max}, got ${JSON.stringify(input instanceof Date ? input.toISOString() : input)}`,
        node,
      );
    }
    return value;
  };
  return new GraphQLScalarType({
    ...config,
    parseValue: (value) => check(() => config.parseValue!(value), value),
    // one parameter: graphql-jit refuses literal parsers that take variables (these need none)
    parseLiteral: (node) =>
      check(() => config.parseLiteral!(node, undefined), 'value' in node ? node.value : undefined, node),
  });
}

builder.addScalarType('Date', boundedDateScalar(DateResolver), {
  description: 'A calendar date, as an ISO 8601 string: `2025-05-05`.',
});
builder.addScalarType('DateTime', boundedDateScalar(DateTimeResolver), {
  description: 'A point in time, as an ISO 8601 string in UTC: `2025-05-12T08:00:00.000Z`.',
});
builder.addScalarType('URL', URLResolver, { description: 'An absolute URL, e.g. `https://arxiv.org/abs/2505.03335`.' });

builder.queryType({ description: 'Reading the archive: editions, categories and papers.' });
builder.subscriptionType({ description: 'Live updates, over Server-Sent Events (or any GraphQL-over-SSE client).' });
builder.mutationType({
  description: 'Changing the archive. Each mutation takes one `input` and returns its payload or a typed error.',
});
