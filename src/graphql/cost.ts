import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLDirective,
  type GraphQLEnumValue,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionSetNode,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';

/** Largest cost a query may have (nodes it could return). */
export const MAX_COST = 10_000;

/**
 * Assumed sizes of plain (unpaged) lists, for the cost estimate: the most a
 * client can reasonably get from them. These are estimates of the data (an
 * edition has about five sections of about five papers), not bounds: every
 * list whose size an argument sets (`first`, `last`, `ids`) is costed at
 * that argument instead, as execution will read it.
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
  // `first: null` (an explicit null) gives its resolver's default, 5
  'Paper.related': 5,
};
const DEFAULT_LIST_SIZE = 20;

/** A plain list's size: what the data holds, but never less than the estimate. */
function listSize(key: string, observed: Readonly<Record<string, number>>): number {
  const estimate = LIST_SIZES[key] ?? DEFAULT_LIST_SIZE;
  const seen = observed[key];
  return seen !== undefined && seen > estimate ? seen : estimate;
}

/**
 * Most work (selections visited) the cost of one operation's introspection
 * may take; beyond it the operation is costed over the limit.
 */
const MAX_INTROSPECTION_WORK = 200_000;

/** Connections, their edges and page info wrap nodes: they are not nodes themselves. */
function isWrapper(named: GraphQLCompositeType): boolean {
  return named.name.endsWith('Connection') || named.name.endsWith('Edge') || named.name === 'PageInfo';
}

function isConnection(type: GraphQLCompositeType): boolean {
  return type.name.endsWith('Connection');
}

function pageSize(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.floor(value)) : null;
}

/**
 * The page a connection returns for its `first`/`last`: the default page
 * without either; none when its resolver refuses them (both at once, or a
 * size outside 1–MAX_PAGE_SIZE: BAD_USER_INPUT before any SQL, nothing below
 * it is returned).
 */
function connectionPage(first: unknown, last: unknown): number {
  if (first != null && last != null) return 0;
  const size = first ?? last;
  if (size == null) return DEFAULT_PAGE_SIZE;
  return typeof size === 'number' && Number.isInteger(size) && size >= 1 && size <= MAX_PAGE_SIZE ? size : 0;
}

function operationOf(
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationDefinitionNode | undefined {
  let operation: OperationDefinitionNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION && (!operationName || def.name?.value === operationName))
      operation ??= def;
  }
  return operation;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  return fragments;
}

function rootOf(schema: GraphQLSchema, operation: OperationDefinitionNode) {
  return operation.operation === 'query'
    ? schema.getQueryType()
    : operation.operation === 'mutation'
      ? schema.getMutationType()
      : schema.getSubscriptionType();
}

/**
 * The variables as execution will see them: the values sent, else the
 * variables' defaults. When they do not coerce, execution refuses the
 * operation before running anything: the defaults alone are then as good as
 * any values.
 */
function coerceVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const defs = operation.variableDefinitions ?? [];
  if (defs.length === 0) return {};
  const result = getVariableValues(schema, defs, inputs, { maxErrors: 1 });
  if (result.coerced) return result.coerced;
  const defaults = getVariableValues(schema, defs, {}, { maxErrors: defs.length });
  return defaults.coerced ?? {};
}

/** A field's arguments as execution will read them: the argument, else its variable's value or default, else the argument's default. */
function argumentsOf(
  field: GraphQLField<unknown, unknown>,
  node: FieldNode,
  variables: Record<string, unknown>,
): Record<string, unknown> {
  if (field.args.length === 0) return {};
  try {
    return getArgumentValues(field, node, variables);
  } catch {
    // an invalid argument fails its field: nothing below it is returned
    return {};
  }
}

function fieldOf(
  schema: GraphQLSchema,
  parent: GraphQLCompositeType,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  if (name.startsWith('__')) {
    if (name === '__typename') return TypeNameMetaFieldDef;
    if (parent === schema.getQueryType()) {
      if (name === '__schema') return SchemaMetaFieldDef;
      if (name === '__type') return TypeMetaFieldDef;
    }
  }
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
 * The number of nodes (objects) a query may return: every object field
 * counts once, times the product of the page sizes of the connections and
 * lists around it. Arguments are read as execution reads them: a literal, a
 * variable's value, else the variable's default, else the argument's default
 * (and only when none is given the field's default page size). A page size
 * its connection refuses (outside 1–100) costs nothing below it: execution
 * refuses it before fetching anything. Fragments are counted where they are
 * spread, each computed once (a fragment spread many times does not make the
 * analysis any slower). Introspection (`__schema`, `__type`) is costed at the
 * objects it returns, counted over the schema itself.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> = {},
  /** Sizes of plain lists read from the data (list-bounds.ts); each counts as at least LIST_SIZES' estimate. */
  listSizes: Readonly<Record<string, number>> = {},
): number {
  const operation = operationOf(document, operationName);
  if (!operation) return 0;
  const root = rootOf(schema, operation);
  if (!root) return 0;
  const fragments = fragmentsOf(document);
  const vars = coerceVariables(schema, operation, variables ?? {});
  const introspection: IntrospectionWalk = {
    schema,
    fragments,
    count: 0,
    work: 0,
    cap: MAX_COST,
    exceeded: false,
    expanded: new Map(),
  };

  // Cost of a fragment for one parent (multiplier 1): a cost is linear in its multiplier.
  const fragmentCosts = new Map<string, number>();
  const fragmentCost = (frag: FragmentDefinitionNode): number => {
    const name = frag.name.value;
    const known = fragmentCosts.get(name);
    if (known !== undefined) return known;
    fragmentCosts.set(name, 0); // a cycle (refused by validation anyway) adds nothing
    const on = schema.getType(frag.typeCondition.name.value);
    const cost = on && isCompositeType(on) ? visit(frag.selectionSet, on, 1) : 0;
    fragmentCosts.set(name, cost);
    return cost;
  };

  const visit = (set: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = fragments.get(sel.name.value);
        if (frag) total += multiplier * fragmentCost(frag);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const on = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        if (on && isCompositeType(on)) total += visit(sel.selectionSet, on, multiplier);
      } else {
        if (!sel.selectionSet) continue;
        const field = fieldOf(schema, parent, sel.name.value);
        if (!field) continue;
        if (field === SchemaMetaFieldDef) {
          total += multiplier * (1 + introspectionCount(introspection, sel.selectionSet, '__Schema', schema));
          continue;
        }
        if (field === TypeMetaFieldDef) {
          const name = argumentsOf(field, sel, vars).name;
          const type = typeof name === 'string' ? schema.getType(name) : undefined;
          if (type) total += multiplier * (1 + introspectionCount(introspection, sel.selectionSet, '__Type', type));
          continue;
        }
        const named = getNamedType(field.type);
        if (!isCompositeType(named)) continue;
        let factor = 1;
        const args = argumentsOf(field, sel, vars);
        if (isConnection(named)) {
          factor = connectionPage(args.first, args.last);
        } else if (
          isListType(getNullableType(field.type)) &&
          !(isConnection(parent) && (field.name === 'edges' || field.name === 'nodes'))
        ) {
          // (a connection's edges and nodes are its page: already counted by the connection)
          if (Array.isArray(args.ids)) factor = args.ids.length;
          else factor = pageSize(args.first) ?? listSize(`${parent.name}.${field.name}`, listSizes);
        }
        const inner = multiplier * factor;
        total += (isWrapper(named) ? 0 : inner) + visit(sel.selectionSet, named, inner);
      }
    }
    return total;
  };
  const total = visit(operation.selectionSet, root, 1);
  // introspection counted past the limit stopped counting: at least over the limit
  return introspection.exceeded ? Math.max(total, MAX_COST + 1) : total;
}

// ---------------------------------------------------------------------------
// Introspection: the objects a `__schema` or `__type` selection returns,
// counted over the schema (which is what it returns), up to a cap.
// ---------------------------------------------------------------------------

type IntrospectionKind = '__Schema' | '__Type' | '__Field' | '__InputValue' | '__EnumValue' | '__Directive';

interface IntrospectionWalk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  /** Objects counted so far (all selections of the operation). */
  count: number;
  /** Selections visited so far. */
  work: number;
  /** Beyond this count the walk stops: the operation is over the limit anyway. */
  cap: number;
  /** Set once the walk stopped (over `cap` or MAX_INTROSPECTION_WORK): the operation is then costed over the limit. */
  exceeded: boolean;
  /** The object-valued fields of a selection set, fragments expanded (once per selection set). */
  expanded: Map<SelectionSetNode, FieldNode[]>;
}

/** Fields of the introspection types whose values are objects. */
const INTROSPECTION_OBJECT_FIELDS = new Set([
  'types',
  'queryType',
  'mutationType',
  'subscriptionType',
  'directives',
  'fields',
  'interfaces',
  'possibleTypes',
  'enumValues',
  'inputFields',
  'ofType',
  'args',
  'type',
]);

function objectFieldsOf(walk: IntrospectionWalk, set: SelectionSetNode): FieldNode[] {
  let out = walk.expanded.get(set);
  if (out) return out;
  out = [];
  const seen = new Set<string>();
  const collect = (s: SelectionSetNode): void => {
    for (const sel of s.selections) {
      walk.work++;
      if (sel.kind === Kind.FIELD) {
        if (sel.selectionSet && INTROSPECTION_OBJECT_FIELDS.has(sel.name.value)) out!.push(sel);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        collect(sel.selectionSet);
      } else {
        // a fragment spread twice in one selection set selects nothing more
        const frag = walk.fragments.get(sel.name.value);
        if (frag && !seen.has(frag.name.value)) {
          seen.add(frag.name.value);
          collect(frag.selectionSet);
        }
      }
    }
  };
  collect(set);
  walk.expanded.set(set, out);
  return out;
}

const EMPTY: readonly unknown[] = [];

/** The objects an introspection field returns for one object (`null`: not an object field). */
function introspectionChildren(
  schema: GraphQLSchema,
  kind: IntrospectionKind,
  value: unknown,
  field: string,
): [IntrospectionKind, readonly unknown[]] | null {
  switch (kind) {
    case '__Schema': {
      const one = (t: unknown): [IntrospectionKind, readonly unknown[]] => ['__Type', t ? [t] : EMPTY];
      if (field === 'types') return ['__Type', Object.values(schema.getTypeMap())];
      if (field === 'queryType') return one(schema.getQueryType());
      if (field === 'mutationType') return one(schema.getMutationType());
      if (field === 'subscriptionType') return one(schema.getSubscriptionType());
      if (field === 'directives') return ['__Directive', schema.getDirectives()];
      return null;
    }
    case '__Type': {
      const type = value as GraphQLType;
      // deprecated fields, arguments and values are counted whether asked for or not: an upper bound
      if (field === 'fields')
        return ['__Field', isObjectType(type) || isInterfaceType(type) ? Object.values(type.getFields()) : EMPTY];
      if (field === 'interfaces')
        return ['__Type', isObjectType(type) || isInterfaceType(type) ? type.getInterfaces() : EMPTY];
      if (field === 'possibleTypes') return ['__Type', isAbstractType(type) ? schema.getPossibleTypes(type) : EMPTY];
      if (field === 'enumValues')
        return ['__EnumValue', isEnumType(type) ? (type.getValues() as GraphQLEnumValue[]) : EMPTY];
      if (field === 'inputFields')
        return [
          '__InputValue',
          isInputObjectType(type) ? (Object.values(type.getFields()) as GraphQLInputField[]) : EMPTY,
        ];
      if (field === 'ofType') return ['__Type', isListType(type) || isNonNullType(type) ? [type.ofType] : EMPTY];
      return null;
    }
    case '__Field': {
      const f = value as GraphQLField<unknown, unknown>;
      if (field === 'args') return ['__InputValue', f.args];
      if (field === 'type') return ['__Type', [f.type]];
      return null;
    }
    case '__InputValue':
      return field === 'type' ? ['__Type', [(value as GraphQLArgument | GraphQLInputField).type]] : null;
    case '__Directive':
      return field === 'args' ? ['__InputValue', (value as GraphQLDirective).args] : null;
    default:
      return null;
  }
}

/**
 * Objects below one introspection object for a selection set (the object
 * itself not counted). Stops (`walk.exceeded`) once the whole operation has
 * counted past its cap or worked too long.
 */
function introspectionCount(
  walk: IntrospectionWalk,
  set: SelectionSetNode,
  kind: IntrospectionKind,
  value: unknown,
): number {
  const start = walk.count;
  const visit = (s: SelectionSetNode, k: IntrospectionKind, v: unknown): boolean => {
    for (const field of objectFieldsOf(walk, s)) {
      walk.work++;
      const children = introspectionChildren(walk.schema, k, v, field.name.value);
      if (!children) continue;
      const [childKind, values] = children;
      for (const child of values) {
        walk.count++;
        if (walk.count > walk.cap || walk.work > MAX_INTROSPECTION_WORK) return false;
        if (!visit(field.selectionSet!, childKind, child)) return false;
      }
    }
    return true;
  };
  if (!walk.exceeded && !visit(set, kind, value)) walk.exceeded = true;
  return walk.count - start;
}

// ---------------------------------------------------------------------------
// The actual cost: objects present in a result.
// ---------------------------------------------------------------------------

/** Which response keys of an object hold nodes, and what is below them. */
interface ResultShape {
  /** Whether the objects at this key count (not connections, edges, page info). */
  node: boolean;
  children: Map<string, ResultShape>;
}

const shapes = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, Map<string, ResultShape>>>>();

function shapeOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): Map<string, ResultShape> | null {
  let bySchema = shapes.get(schema);
  if (!bySchema) {
    bySchema = new WeakMap();
    shapes.set(schema, bySchema);
  }
  let byOperation = bySchema.get(document);
  if (!byOperation) {
    byOperation = new Map();
    bySchema.set(document, byOperation);
  }
  const key = operationName ?? '';
  let shape = byOperation.get(key);
  if (shape) return shape;
  const operation = operationOf(document, operationName);
  const root = operation && rootOf(schema, operation);
  if (!operation || !root) return null;
  shape = buildShape(schema, fragmentsOf(document), [[operation.selectionSet, root]]);
  byOperation.set(key, shape);
  return shape;
}

/**
 * The shape of the result of some selection sets, merged by response key as
 * execution merges them (a fragment spread twice in a selection set is
 * collected once).
 */
function buildShape(
  schema: GraphQLSchema,
  fragments: Map<string, FragmentDefinitionNode>,
  sets: Array<[SelectionSetNode, GraphQLCompositeType]>,
): Map<string, ResultShape> {
  const groups = new Map<string, Array<[FieldNode, GraphQLCompositeType]>>();
  const collect = (set: SelectionSetNode, parent: GraphQLCompositeType, seen: Set<string>): void => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const key = sel.alias?.value ?? sel.name.value;
        let group = groups.get(key);
        if (!group) {
          group = [];
          groups.set(key, group);
        }
        group.push([sel, parent]);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const on = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        if (on && isCompositeType(on)) collect(sel.selectionSet, on, seen);
      } else {
        const frag = fragments.get(sel.name.value);
        if (!frag || seen.has(frag.name.value)) continue;
        seen.add(frag.name.value);
        const on = schema.getType(frag.typeCondition.name.value);
        if (on && isCompositeType(on)) collect(frag.selectionSet, on, seen);
      }
    }
  };
  for (const [set, parent] of sets) collect(set, parent, new Set());
  const out = new Map<string, ResultShape>();
  for (const [key, group] of groups) {
    let composite = false;
    let node = true;
    const below: Array<[SelectionSetNode, GraphQLCompositeType]> = [];
    for (const [sel, parent] of group) {
      const field = fieldOf(schema, parent, sel.name.value);
      if (!field) continue;
      const named = getNamedType(field.type);
      if (!isCompositeType(named)) continue;
      composite = true;
      // (the same key may be a node on one type and a connection on another: counted only when a node on all, never above the cost)
      if (isWrapper(named)) node = false;
      if (sel.selectionSet) below.push([sel.selectionSet, named]);
    }
    if (composite) out.set(key, { node, children: buildShape(schema, fragments, below) });
  }
  return out;
}

function countObject(shape: Map<string, ResultShape>, value: Record<string, unknown>): number {
  let n = 0;
  for (const k in value) {
    const v = value[k];
    if (v === null || typeof v !== 'object') continue;
    const below = shape.get(k);
    if (below) n += countValue(below, v);
  }
  return n;
}

function countValue(shape: ResultShape, value: object): number {
  if (Array.isArray(value)) {
    let n = 0;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v !== null && typeof v === 'object') n += countValue(shape, v);
    }
    return n;
  }
  return (shape.node ? 1 : 0) + countObject(shape.children, value as Record<string, unknown>);
}

/**
 * Objects actually present in a result (the "actual" cost), counted as
 * `queryCost` counts them: by the types the document selects (aliases do not
 * matter), connections, edges and page info not counted. Runs on every
 * result: the shape of a document is computed once (documents are cached by
 * Yoga), then one pass over the result, no allocation.
 */
export function resultNodeCount(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  data: unknown,
): number {
  if (data === null || typeof data !== 'object') return 0;
  const shape = shapeOf(schema, document, operationName);
  return shape ? countObject(shape, data as Record<string, unknown>) : 0;
}
