import type { Context } from './context.js';
import { issueSlugs } from '../db/queries/editorial.js';
import type { Changes } from '../editorial/service.js';
import { ValidationError } from '../errors.js';
import { decodeGlobalId } from './global-id.js';

/** The database id inside a global ID of the expected type, or a ValidationError naming the field. */
export function idOf(globalId: string | number, typename: string, path: string[]): number {
  try {
    const decoded = decodeGlobalId(String(globalId), new Set([typename]));
    if (decoded.typename === typename) return Number(decoded.id);
  } catch {
    // fall through
  }
  throw new ValidationError(`${path.slice(1).join('.')} is not the ID of a ${typename}`, path);
}

/**
 * After a committed write: forget cached rows (the rest of the request sees
 * the new data) and tell subscribers.
 */
export async function afterWrite(ctx: Context, changes: Changes): Promise<void> {
  ctx.loaders.clearAll();
  await ctx.noteWrite();
  await ctx.onWrite();
  const ids = [...new Set(changes.updatedIssueIds)];
  for (const { id, slug } of await issueSlugs(ctx.db, ids)) ctx.events.publish('issueUpdated', slug, { issueId: id });
  for (const issueId of new Set(changes.publishedIssueIds)) ctx.events.publish('issuePublished', { issueId });
}
