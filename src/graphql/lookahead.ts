import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { ISSUE, ISSUE_FIELDS, type IssueMode } from '../db/read-model/issue.js';
import { CURSOR, PAPER, type PaperColumns } from '../db/read-model/paper.js';

function collect(
  selectionSet: SelectionSetNode,
  name: string,
  fragments: Record<string, FragmentDefinitionNode>,
  out: FieldNode[],
  seen: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === 'Field') {
      if (selection.name.value === name) out.push(selection);
    } else if (selection.kind === 'InlineFragment') {
      collect(selection.selectionSet, name, fragments, out, seen);
    } else {
      const fragment = fragments[selection.name.value];
      if (fragment && !seen.has(fragment.name.value)) {
        seen.add(fragment.name.value);
        collect(fragment.selectionSet, name, fragments, out, seen);
      }
    }
  }
}

/**
 * Whether the client selected this path below the field being resolved
 * (`['nodes', 'issue']`: the field's `nodes { issue { … } }`), through
 * inline fragments and fragment spreads. `@skip`/`@include` are ignored: a
 * "yes" only means that fetching the data along may pay, never that it is
 * shown. Used to fetch a child along with its parent in one statement.
 */
export function selectsPath(
  info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>,
  path: readonly string[],
): boolean {
  let nodes: readonly FieldNode[] = info.fieldNodes;
  for (const name of path) {
    const next: FieldNode[] = [];
    for (const node of nodes) {
      if (node.selectionSet) collect(node.selectionSet, name, info.fragments, next, new Set());
    }
    if (next.length === 0) return false;
    nodes = next;
  }
  return true;
}

/**
 * Whether a connection's `pageInfo` is selected (through fragments; `@skip`
 * ignored, so "yes" when in doubt): without it, a page need not read the row
 * after its end to tell whether there is a next one.
 */
export function selectsPageInfo(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): boolean {
  return selectsPath(info, ['pageInfo']);
}

/** Whether a paper connection's papers are asked for with their edition (`nodes { issue }` or `edges { node { issue } }`). */
export function selectsPaperIssues(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): boolean {
  return selectsPath(info, ['nodes', 'issue']) || selectsPath(info, ['edges', 'node', 'issue']);
}

/** Fields of an edition that resolve by its id alone (through loaders). */
const ISSUE_BY_ID_FIELDS = new Set(['__typename', 'id', 'sections', 'papers', 'paperCount']);
const ISSUE_COLUMN_FIELDS = ISSUE.fieldNames();

/**
 * How much of each paper's edition the papers of a paper connection need:
 * none when `issue` is not selected on `nodes` / `edges { node }`; else the
 * edition's fields selected below it (through fragments), or the whole row
 * when a field there is neither a column nor resolved by id (e.g. `markdown`,
 * or a field added later).
 */
export function paperIssueMode(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): IssueMode {
  return memoized(issueModes, info, () => {
    if (!selectsPaperIssues(info)) return 'none';
    const names = new Set([...fieldsAt(info, ['nodes', 'issue']), ...fieldsAt(info, ['edges', 'node', 'issue'])]);
    for (const n of names) if (!ISSUE_COLUMN_FIELDS.has(n) && !ISSUE_BY_ID_FIELDS.has(n)) return 'full';
    const set = ISSUE.setFor(names) as Record<string, boolean>;
    return ISSUE_FIELDS.filter((f) => set[f]);
  });
}

/*
 * A lookahead depends only on the document (names of selected fields, through
 * its fragments), not on variables: computed once per field node of a parsed
 * document (Yoga caches parsed documents, so the same nodes come back with
 * every request of the same query) instead of once per parent per request.
 */
const issueModes = new WeakMap<FieldNode, IssueMode>();
const paperColumns = new WeakMap<FieldNode, PaperColumns>();
const sectionColumns = new WeakMap<FieldNode, PaperColumns>();

function memoized<T>(cache: WeakMap<FieldNode, T>, info: Pick<GraphQLResolveInfo, 'fieldNodes'>, compute: () => T): T {
  const key = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
  if (!key) return compute();
  let value = cache.get(key);
  if (value === undefined) {
    value = compute();
    cache.set(key, value);
  }
  return value;
}

/**
 * The nodes of the first child field `name` selected below the field being
 * resolved, with every node sharing its response key: what that child's own
 * resolver will get as `info.fieldNodes`. Empty when it is not selected.
 */
export function childFieldNodes(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, name: string): FieldNode[] {
  const all: FieldNode[] = [];
  for (const node of info.fieldNodes) {
    if (node.selectionSet) collect(node.selectionSet, name, info.fragments, all, new Set());
  }
  const first = all[0];
  if (!first) return [];
  const key = (n: FieldNode) => n.alias?.value ?? n.name.value;
  return all.filter((n) => key(n) === key(first));
}

function namesIn(
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  out: Set<string>,
  seen: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === 'Field') out.add(selection.name.value);
    else if (selection.kind === 'InlineFragment') namesIn(selection.selectionSet, fragments, out, seen);
    else {
      const fragment = fragments[selection.name.value];
      if (fragment && !seen.has(fragment.name.value)) {
        seen.add(fragment.name.value);
        namesIn(fragment.selectionSet, fragments, out, seen);
      }
    }
  }
}

/** The names of the fields selected at this path below the field being resolved (through fragments). */
export function fieldsAt(
  info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>,
  path: readonly string[],
): Set<string> {
  let nodes: readonly FieldNode[] = info.fieldNodes;
  for (const name of path) {
    const next: FieldNode[] = [];
    for (const node of nodes) {
      if (node.selectionSet) collect(node.selectionSet, name, info.fragments, next, new Set());
    }
    nodes = next;
  }
  const out = new Set<string>();
  for (const node of nodes) {
    if (node.selectionSet) namesIn(node.selectionSet, info.fragments, out, new Set());
  }
  return out;
}

/**
 * Which of a paper's optional columns the papers of a paper connection need:
 * the fields selected on its `nodes` and `edges { node }`, through fragments.
 */
export function paperColumnsFor(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): PaperColumns {
  return memoized(paperColumns, info, () => {
    const names = new Set([...fieldsAt(info, ['nodes']), ...fieldsAt(info, ['edges', 'node'])]);
    // Cursors are built from the papers' place.
    if (selectsPageInfo(info) || selectsPath(info, ['edges', 'cursor'])) names.add(CURSOR);
    return PAPER.setFor(names);
  });
}

/** The same for the papers of the sections of an edition (`Issue.sections` → `papers`). */
export function sectionPaperColumnsFor(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): PaperColumns {
  return memoized(sectionColumns, info, () => PAPER.setFor(fieldsAt(info, ['papers'])));
}
