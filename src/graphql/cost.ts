import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  Kind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  isUnionType,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from './pagination.js';

/** Largest cost a query may have (nodes it could return). */
export const MAX_COST = 10_000;

/**
 * Assumed sizes of plain (unpaged) lists, for the cost estimate: the most a
 * client can reasonably get from them.
 */
const LIST_SIZES: Record<string, number> = {
  'Query.categories': 20,
  'Issue.sections': 8,
  'Issue.asides': 5,
  'Section.papers': 8,
  'ImportPreview.sections': 8,
  'ImportPreviewSection.papers': 8,
  'ImportIssuePayload.warnings': 50,
  'PaperSearchEdge.matches': 2,
  'TextMatch.highlights': 10,
  'PaperSearchConnection.facets': 20,
};
const DEFAULT_LIST_SIZE = 20;

function argValue(node: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!node) return undefined;
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value];
    case Kind.INT:
      return Number(node.value);
    case Kind.LIST:
      return node.values.map((v) => argValue(v, variables));
    default:
      return undefined;
  }
}

function pageSize(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? Math.max(0, Math.floor(n)) : null;
}

/**
 * The number of nodes (objects) a query may return: every object field
 * counts once, times the product of the page sizes of the connections and
 * lists around it — `first`/`last` whether written literally or passed as
 * variables. Fragments are followed; each fragment is counted where used.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> = {},
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (def.kind === Kind.OPERATION_DEFINITION && (!operationName || def.name?.value === operationName)) {
      operation ??= def;
    }
  }
  if (!operation) return 0;
  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return 0;

  const visit = (set: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number, seen: Set<string>): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = fragments.get(sel.name.value);
        if (!frag || seen.has(frag.name.value)) continue; // cycles are rejected by validation anyway
        const on = schema.getType(frag.typeCondition.name.value);
        if (on && isCompositeType(on)) total += visit(frag.selectionSet, on, multiplier, new Set([...seen, frag.name.value]));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const on = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        if (on && isCompositeType(on)) total += visit(sel.selectionSet, on, multiplier, seen);
      } else {
        if (!sel.selectionSet || sel.name.value.startsWith('__')) continue;
        const field = fieldOf(parent, sel.name.value);
        if (!field) continue;
        const named = getNamedType(field.type);
        if (!isCompositeType(named)) continue;
        let factor = 1;
        const args = Object.fromEntries((sel.arguments ?? []).map((a) => [a.name.value, argValue(a.value, variables)]));
        if (named.name.endsWith('Connection')) {
          factor = pageSize(args.first) ?? pageSize(args.last) ?? DEFAULT_PAGE_SIZE;
        } else if (isListType(getNullableType(field.type)) && !parent.name.endsWith('Connection')) {
          // (a connection's edges and nodes are its page: already counted by the connection)
          if (Array.isArray(args.ids)) factor = args.ids.length;
          else factor = pageSize(args.first) ?? LIST_SIZES[`${parent.name}.${field.name}`] ?? DEFAULT_LIST_SIZE;
        }
        const inner = multiplier * factor;
        // connections, edges and page info are wrappers, not nodes
        const wrapper = named.name.endsWith('Connection') || named.name.endsWith('Edge') || named.name === 'PageInfo';
        total += (wrapper ? 0 : inner) + visit(sel.selectionSet, named, inner, seen);
      }
    }
    return total;
  };
  return visit(operation.selectionSet, root, 1, new Set());
}

function fieldOf(parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (isObjectType(parent) || isInterfaceType(parent)) return parent.getFields()[name];
  if (isUnionType(parent)) {
    for (const t of parent.getTypes()) {
      const f = t.getFields()[name];
      if (f) return f;
    }
  }
  return undefined;
}

/**
 * Objects actually present in a result (the "actual" cost); connection
 * wrappers do not count. Runs on every result: one pass, no allocation.
 */
export function resultNodeCount(data: unknown): number {
  let n = 0;
  const walk = (value: object, key: string): void => {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (v !== null && typeof v === 'object') walk(v, key);
      }
      return;
    }
    if (key !== 'edges' && key !== 'pageInfo' && !('edges' in value || 'pageInfo' in value || ('totalCount' in value && 'nodes' in value))) n++;
    const record = value as Record<string, unknown>;
    for (const k in record) {
      const v = record[k];
      if (v !== null && typeof v === 'object') walk(v, k);
    }
  };
  if (data !== null && typeof data === 'object') walk(data, '');
  return Math.max(0, n - 1); // the root data object is not a node
}
