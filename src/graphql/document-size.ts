import { type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode, GraphQLError, Kind } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * The number of fields a document selects once its fragments are expanded:
 * every field node of every operation, a fragment counted again at every
 * spread (what a naive walk of the operations — validation's, execution's,
 * the cost analysis' — would visit). A document of k fragments each spreading
 * the next twice selects 2^k fields from a few hundred bytes; this counts it
 * in time linear in the document (each fragment's size is computed once, then
 * multiplied), and stops at `cap + 1`.
 */
export function expandedFieldCount(document: DocumentNode, cap: number): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const over = cap + 1;
  // size of each fragment; 0 while it is being computed (a cycle, refused by validation, adds nothing)
  const sizes = new Map<string, number>();
  const fragmentSize = (frag: FragmentDefinitionNode): number => {
    const name = frag.name.value;
    const known = sizes.get(name);
    if (known !== undefined) return known;
    sizes.set(name, 0);
    const size = sizeOf(frag.selectionSet);
    sizes.set(name, size);
    return size;
  };
  const sizeOf = (set: SelectionSetNode): number => {
    let n = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) n += 1 + (sel.selectionSet ? sizeOf(sel.selectionSet) : 0);
      else if (sel.kind === Kind.INLINE_FRAGMENT) n += sizeOf(sel.selectionSet);
      else {
        const frag = fragments.get(sel.name.value);
        if (frag) n += fragmentSize(frag);
      }
      if (n >= over) return over;
    }
    return n;
  };
  let total = 0;
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    total += sizeOf(def.selectionSet);
    if (total >= over) return over;
  }
  return total;
}

/** Error code of a document over the expanded-size limit. */
export const QUERY_TOO_LARGE = 'QUERY_TOO_LARGE';

/**
 * Refuses, before validation, a document that selects more than `n` fields
 * once its fragments are expanded (see `expandedFieldCount`): HTTP 400,
 * `QUERY_TOO_LARGE`. The count is kept per parsed document (Yoga caches
 * them), so a repeated document is not counted again.
 */
export function maxExpandedFieldsPlugin(options: { n: number }): Plugin {
  const counted = new WeakMap<DocumentNode, number>();
  return {
    onValidate({ params, setResult }) {
      const document = params.documentAST;
      let size = counted.get(document);
      if (size === undefined) {
        size = expandedFieldCount(document, options.n);
        counted.set(document, size);
      }
      if (size <= options.n) return;
      setResult([
        new GraphQLError(
          `This document selects more than ${options.n} fields once its fragments are expanded (each spread counts its fragment again). Spread fewer fragments, or spread them fewer times.`,
          { extensions: { code: QUERY_TOO_LARGE, http: { status: 400 } } },
        ),
      ]);
    },
  };
}
