import { CategoryRef, IssueRef, PaperRef } from '../refs.js';
import { builder } from '../builder.js';
import { decodeGlobalId } from '../global-id.js';
import type { Context } from '../context.js';

/**
 * Apollo Federation entities (served when FEDERATION=on, see schema.ts's
 * subgraphSchema): another subgraph may reference an edition by `id` or
 * `slug`, a paper by `id` or `arxivId`, a category by `slug`. References are
 * resolved through the request's loaders, so 100 representations cost the
 * same few statements as `nodes(ids:)`; one that matches nothing visible
 * resolves to null.
 */

/** The database id of a global ID of type `typename`, or null when it is not one (an unknown key is null, not an error). */
function idOf(globalId: string, typename: string): number | null {
  try {
    const decoded = decodeGlobalId(globalId);
    return decoded.typename === typename ? Number(decoded.id) : null;
  } catch {
    return null;
  }
}

const byId = <T>(globalId: string, typename: string, load: (id: number) => Promise<T | null>) => {
  const id = idOf(globalId, typename);
  return id === null ? null : load(id);
};

builder.asEntity(IssueRef, {
  key: [builder.selection<{ id: string }>('id'), builder.selection<{ slug: string }>('slug')],
  resolveReference: (ref, ctx: Context) =>
    'id' in ref
      ? byId(ref.id, 'Issue', (id) => ctx.loaders.issueById.load(id))
      : ctx.loaders.issueBySlug.load(ref.slug),
});

builder.asEntity(PaperRef, {
  key: [builder.selection<{ id: string }>('id'), builder.selection<{ arxivId: string }>('arxivId')],
  resolveReference: (ref, ctx: Context) =>
    'id' in ref
      ? byId(ref.id, 'Paper', (id) => ctx.loaders.paperById.load(id))
      : ctx.loaders.paperByArxivId.load(ref.arxivId),
});

builder.asEntity(CategoryRef, {
  key: builder.selection<{ slug: string }>('slug'),
  resolveReference: (ref, ctx: Context) => ctx.loaders.categoryBySlug.load(ref.slug),
});
