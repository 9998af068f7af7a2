import type { Db } from '../db/client.js';
import { type ListBoundRow, readListBounds } from '../db/queries/list-bounds.js';

/**
 * The sizes the cost analysis gives plain lists, read from the data so that a
 * cost is an upper bound of what a query returns (an archive with 30
 * categories, or an edition of 12 sections, is costed as such). Refreshed
 * after every write: the API's own (awaited before the mutation answers) and
 * every other one the database announces (the change signal).
 */
export interface ListBounds {
  /** `Type.field` → the most items that list holds now (absent: the cost analysis's estimate). */
  get(): Readonly<Record<string, number>>;
  /** Reads the sizes again; concurrent calls share one read, and one that comes during a read waits for the next. */
  refresh(): Promise<void>;
}

function sizesOf(row: ListBoundRow): Record<string, number> {
  return {
    'Query.categories': row.categories,
    'PaperSearchConnection.facets': row.categories,
    'Issue.sections': row.sections,
    'Section.papers': row.papers,
    'Issue.asides': row.asides,
    'Issue.importWarnings': row.warnings,
  };
}

export function createListBounds(db: Db, onError: (err: unknown) => void = () => {}): ListBounds {
  let sizes: Record<string, number> = {};
  let running: Promise<void> | null = null;
  let again: Promise<void> | null = null;
  const read = async () => {
    try {
      sizes = sizesOf(await readListBounds(db));
    } catch (err) {
      onError(err);
    }
  };
  const refresh = (): Promise<void> => {
    if (!running) {
      running = read().finally(() => (running = null));
      return running;
    }
    // a read already under way may have missed the write that asks for this one
    again ??= running.then(() => {
      again = null;
      return refresh();
    });
    return again;
  };
  // No read here: the server reads them before it is ready, and apps in tests after their writes (a read
  // running on its own could meet a test's TRUNCATE and deadlock with it).
  return { get: () => sizes, refresh };
}
