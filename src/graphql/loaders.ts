import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import { categoriesByIds, categoriesBySlugs } from '../db/queries/categories.js';
import type { PaperFilterArgs, PaperKey, Visibility } from '../db/queries/fragments.js';
import { issuesByIds, issuesBySlugs } from '../db/queries/issues.js';
import {
  type PaperParent,
  countPapersByParents,
  pagePapersByParents,
  paperNumbersAsWritten,
  paperSummaries,
  papersByIds,
  papersBySectionIds,
} from '../db/queries/papers.js';
import { papersByArxivIds, relatedPapers } from '../db/queries/search.js';
import { sectionsByIssueIds } from '../db/queries/sections.js';
import type { PageWindow } from '../db/queries/util.js';
import type { IssueMode } from '../db/read-model/issue.js';
import { ALL_PAPER_COLUMNS, PAPER, type PaperColumns, columnsKey } from '../db/read-model/paper.js';
import type { CategoryRow, IssueRow, PaperRow } from '../db/schema.js';
import type { PaperShape, SectionShape } from './shapes.js';

function byKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): Array<V | null> {
  const map = new Map<K, V>();
  for (const row of rows) map.set(keyOf(row), row);
  return keys.map((k) => map.get(k) ?? null);
}

function groupBy<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): V[][] {
  const map = new Map<K, V[]>(keys.map((k) => [k, []]));
  for (const row of rows) map.get(keyOf(row))?.push(row);
  return keys.map((k) => map.get(k) ?? []);
}

/** Loaders made on first use, one per distinct key of the request (arguments of a field, column sets). */
class LoaderFamily<A, L extends DataLoader<never, unknown>> {
  private readonly byKey = new Map<string, L>();
  constructor(private readonly make: (args: A) => L) {}
  get(key: string, args: A): L {
    let loader = this.byKey.get(key);
    if (!loader) {
      loader = this.make(args);
      this.byKey.set(key, loader);
    }
    return loader;
  }
  /** Empties every loader's cache (the loaders stay: fields may hold them). */
  clear(): void {
    for (const l of this.byKey.values()) l.clearAll();
  }
}

/** Rows by id and by slug: editions, categories, papers, and the paper columns lists leave out. */
function rowLoaders(db: Db, vis: Visibility) {
  const issueById = new DataLoader<number, IssueRow | null>(async (ids) =>
    byKey(ids, await issuesByIds(db, ids, vis), (r) => r.id),
  );
  const issueBySlug = new DataLoader<string, IssueRow | null>(async (slugs) => {
    const rows = await issuesBySlugs(db, slugs, vis);
    for (const r of rows) issueById.prime(r.id, r);
    return byKey(slugs, rows, (r) => r.slug);
  });
  const categoryById = new DataLoader<number, CategoryRow | null>(async (ids) =>
    byKey(ids, await categoriesByIds(db, ids), (r) => r.id),
  );
  const categoryBySlug = new DataLoader<string, CategoryRow | null>(async (slugs) => {
    const rows = await categoriesBySlugs(db, slugs);
    for (const r of rows) categoryById.prime(r.category.id, r.category);
    return byKey(slugs, rows, (r) => r.requestedSlug).map((r) => r?.category ?? null);
  });
  const paperById = new DataLoader<number, PaperRow | null>(async (ids) =>
    byKey(ids, await papersByIds(db, ids, vis), (r) => r.id),
  );
  // Summaries are fetched (batched) only for the papers whose summary a client asks for.
  const paperSummary = new DataLoader<number, string>(async (ids) => {
    const summaries = await paperSummaries(db, ids);
    return ids.map((id) => summaries.get(id) ?? '');
  });
  // Likewise the number as written, which lists leave out (see PaperRow).
  const paperNumberAsWritten = new DataLoader<number, string | null>(async (ids) => {
    const numbers = await paperNumbersAsWritten(db, ids);
    return ids.map((id) => numbers.get(id) ?? null);
  });
  // By arXiv id (federation's `Paper @key(fields: "arxivId")`): the newest visible paper carrying it.
  const paperByArxivId = new DataLoader<string, PaperRow | null>(
    async (arxivIds) => byKey(arxivIds, await papersByArxivIds(db, arxivIds, vis), (r) => r.arxivId),
    // (one bound parameter per id: PGlite answers nothing past 32 767)
    { maxBatchSize: 1_000 },
  );
  return {
    issueById,
    issueBySlug,
    categoryById,
    categoryBySlug,
    paperById,
    paperByArxivId,
    paperSummary,
    paperNumberAsWritten,
  };
}

type RowLoaders = ReturnType<typeof rowLoaders>;

/**
 * Sections of editions with their categories and papers; `columns`: the
 * papers' lookahead columns the client reads. Papers with every column also
 * prime paperById; the others stay with their section.
 */
function sectionLoaders(db: Db, rows: RowLoaders) {
  const family = new LoaderFamily((columns: PaperColumns) => {
    const complete = Object.values(columns).every(Boolean);
    return new DataLoader<number, SectionShape[]>(async (ids) => {
      const found = await sectionsByIssueIds(db, ids, columns);
      for (const r of found) {
        rows.categoryById.prime(r.category.id, r.category);
        if (complete) for (const p of r.papers) if (PAPER.isComplete(p)) rows.paperById.prime(p.id, p);
      }
      // The category and papers came along: the section carries them (no statement, no promise of their own).
      return groupBy(
        ids,
        found.map((r): SectionShape => ({ ...r.section, category: r.category, papers: r.papers })),
        (r) => r.issueId,
      );
    });
  });
  const sectionsOf = (columns: PaperColumns = ALL_PAPER_COLUMNS) => family.get(columnsKey(columns), columns);
  const papersBySectionId = new DataLoader<number, PaperRow[]>(async (ids) => {
    const found = await papersBySectionIds(db, ids);
    for (const r of found) rows.paperById.prime(r.id, r);
    return groupBy(ids, found, (r) => r.sectionId);
  });
  return {
    sectionsOf,
    sectionsByIssueId: sectionsOf(ALL_PAPER_COLUMNS),
    papersBySectionId,
    clear: () => {
      family.clear();
      papersBySectionId.clearAll();
    },
  };
}

/**
 * Paged children: one loader per distinct (parent kind, arguments) in the
 * request, batching all parents that asked for the same page shape.
 */
function pageLoaders(db: Db, vis: Visibility, rows: RowLoaders) {
  type PageArgs = [PaperParent, PaperFilterArgs | undefined, PageWindow<PaperKey>, IssueMode, PaperColumns];
  const pages = new LoaderFamily(
    ([parent, filter, window, issues, columns]: PageArgs) =>
      new DataLoader<number, PaperShape[]>(async (ids) => {
        const found = await pagePapersByParents(db, parent, ids, filter, window, vis, { issues, columns });
        for (const issue of found.issues) rows.issueById.prime(issue.id, issue);
        return groupBy(ids, found.papers, (r) => r.parentId);
      }),
  );
  const counts = new LoaderFamily(
    ([parent, filter]: [PaperParent, PaperFilterArgs | undefined]) =>
      new DataLoader<number, number>(async (ids) => {
        const found = await countPapersByParents(db, parent, ids, filter, vis);
        return ids.map((id) => found.get(id) ?? 0);
      }),
  );
  /**
   * `issues`: the client asks for each paper's edition, which then comes in
   * the same statement (see IssueMode: each paper carries it; whole rows
   * also prime issueById). `columns`: the lookahead columns the client reads
   * (the rows stay in this loader: other columns are absent).
   */
  function papersPage(
    parent: PaperParent,
    filter: PaperFilterArgs | undefined,
    window: PageWindow<PaperKey>,
    issues: IssueMode = 'none',
    columns: PaperColumns = ALL_PAPER_COLUMNS,
  ): DataLoader<number, PaperShape[]> {
    const args: PageArgs = [parent, filter, window, issues, columns];
    return pages.get(JSON.stringify([parent, filter ?? null, window, issues, columns]), args);
  }
  function papersCount(parent: PaperParent, filter: PaperFilterArgs | undefined): DataLoader<number, number> {
    return counts.get(JSON.stringify([parent, filter ?? null]), [parent, filter]);
  }
  return {
    papersPage,
    papersCount,
    clear: () => {
      pages.clear();
      counts.clear();
    },
  };
}

/** `Paper.related(first)`: one loader per `first` in the request; the related papers also prime paperById. */
function relatedLoaders(db: Db, vis: Visibility, rows: RowLoaders) {
  const family = new LoaderFamily(
    (first: number) =>
      new DataLoader<number, PaperRow[]>(async (ids) => {
        const found = await relatedPapers(db, ids, first, vis);
        for (const list of found.values()) for (const r of list) rows.paperById.prime(r.id, r);
        return ids.map((id) => found.get(id) ?? []);
      }),
  );
  return { related: (first: number) => family.get(String(first), first), clear: () => family.clear() };
}

/**
 * Per-request DataLoaders. Every list or nested field goes through one of
 * these, so a query costs one statement per nesting level, not per parent.
 * Visibility (drafts or not) is fixed for the request.
 */
export function createLoaders(db: Db, vis: Visibility) {
  const rows = rowLoaders(db, vis);
  const { clear: clearSections, ...sections } = sectionLoaders(db, rows);
  const { clear: clearPages, ...pages } = pageLoaders(db, vis, rows);
  const { clear: clearRelated, ...related } = relatedLoaders(db, vis, rows);
  /** Forget everything cached (after a mutation, so the same request sees new data). */
  function clearAll(): void {
    for (const l of Object.values(rows)) (l as DataLoader<unknown, unknown>).clearAll();
    clearSections();
    clearPages();
    clearRelated();
  }
  return { ...rows, ...sections, ...pages, ...related, clearAll };
}

export type Loaders = ReturnType<typeof createLoaders>;
