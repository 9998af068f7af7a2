import { CategoryRef, IssueRef, PaperRef } from '../refs.js';
import { builder } from '../builder.js';
import { decodeGlobalId } from '../global-id.js';
import type { Context } from '../context.js';
import { userInputError } from '../errors.js';

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

/** The keys of each entity, as declared above: a representation must carry every field of one of them. */
const ENTITY_KEYS: Record<string, string[][]> = {
  Issue: [['id'], ['slug']],
  Paper: [['id'], ['arxivId']],
  Category: [['slug']],
};

/** At most this many representations in one `_entities` call. */
export const MAX_REPRESENTATIONS = 1_000;

/**
 * Checks `_entities`' representations before anything runs: an object with a
 * known `__typename` and, as strings (1–200 characters, no NUL), the fields
 * of one of its keys. Anything else is BAD_USER_INPUT naming the
 * representation — not an internal error from the federation library or the
 * database.
 */
export function checkRepresentations(representations: unknown): void {
  if (!Array.isArray(representations)) throw userInputError('`representations` must be a list', 'representations');
  if (representations.length > MAX_REPRESENTATIONS) {
    throw userInputError(
      `at most ${MAX_REPRESENTATIONS} representations at once (got ${representations.length})`,
      'representations',
    );
  }
  representations.forEach((rep, i) => {
    const fail = (why: string) => {
      throw userInputError(`representations[${i}]: ${why}`, 'representations');
    };
    if (typeof rep !== 'object' || rep === null || Array.isArray(rep)) fail('must be an object');
    const fields = rep as Record<string, unknown>;
    const keys = typeof fields.__typename === 'string' ? ENTITY_KEYS[fields.__typename] : undefined;
    if (!keys) fail(`\`__typename\` must be one of ${Object.keys(ENTITY_KEYS).join(', ')}`);
    const usable = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 200 && !v.includes('\u0000');
    if (!keys!.some((key) => key.every((f) => usable(fields[f])))) {
      fail(`${fields.__typename} needs ${keys!.map((k) => k.join(' + ')).join(' or ')} (a string of 1–200 characters)`);
    }
  });
}
