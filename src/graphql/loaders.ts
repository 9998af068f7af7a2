import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import { categoriesByIds, categoriesBySlugs } from '../db/queries/categories.js';
import { issuesByIds, issuesBySlugs } from '../db/queries/issues.js';
import {
  ALL_PAPER_COLUMNS,
  type IssueMode,
  type PaperColumns,
  type PaperFilterArgs,
  type PaperKey,
  type PaperParent,
  type Visibility,
  countPapersByParents,
  pagePapersByParents,
  papersByIds,
  paperNumbersAsWritten,
  paperSummaries,
  papersBySectionIds,
} from '../db/queries/papers.js';
import { sectionsByIssueIds } from '../db/queries/sections.js';
import type { PageWindow } from '../db/queries/util.js';
import type { CategoryRow, IssueRow, PaperRow } from '../db/schema.js';
import type { SectionShape } from './refs.js';

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

/**
 * Per-request DataLoaders. Every list or nested field goes through one of
 * these, so a query costs one statement per nesting level, not per parent.
 * Visibility (drafts or not) is fixed for the request.
 */
export function createLoaders(db: Db, vis: Visibility) {
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
  /**
   * Sections of editions with their categories and papers; `columns`: the
   * papers' optional columns the client reads. Papers with every column also
   * prime paperById; the others stay with their section.
   */
  const sectionLoaders = new Map<string, DataLoader<number, SectionShape[]>>();
  function sectionsOf(columns: PaperColumns = ALL_PAPER_COLUMNS): DataLoader<number, SectionShape[]> {
    const key = JSON.stringify(columns);
    let loader = sectionLoaders.get(key);
    if (!loader) {
      const complete = Object.values(columns).every(Boolean);
      loader = new DataLoader<number, SectionShape[]>(async (ids) => {
        const rows = await sectionsByIssueIds(db, ids, columns);
        for (const r of rows) {
          categoryById.prime(r.category.id, r.category);
          if (complete) for (const p of r.papers) paperById.prime(p.id, p);
        }
        // The category and papers came along: the section carries them (no statement, no promise of their own).
        return groupBy(
          ids,
          rows.map((r): SectionShape => ({ ...r.section, category: r.category, papers: r.papers })),
          (r) => r.issueId,
        );
      });
      sectionLoaders.set(key, loader);
    }
    return loader;
  }
  const sectionsByIssueId = sectionsOf(ALL_PAPER_COLUMNS);
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
  const papersBySectionId = new DataLoader<number, PaperRow[]>(async (ids) => {
    const rows = await papersBySectionIds(db, ids);
    for (const r of rows) paperById.prime(r.id, r);
    return groupBy(ids, rows, (r) => r.sectionId);
  });

  // Paged children: one loader per distinct (parent kind, arguments) in the
  // request, batching all parents that asked for the same page shape.
  const pageLoaders = new Map<string, DataLoader<number, PaperRow[]>>();
  const countLoaders = new Map<string, DataLoader<number, number>>();

  /**
   * `issues`: the client asks for each paper's edition, which then comes in
   * the same statement (see IssueMode: each paper carries it; whole rows
   * also prime issueById). `columns`: the optional columns the client reads
   * (the rows stay in this loader: other columns are null).
   */
  function papersPage(
    parent: PaperParent,
    filter: PaperFilterArgs | undefined,
    window: PageWindow<PaperKey>,
    issues: IssueMode = 'none',
    columns: PaperColumns = ALL_PAPER_COLUMNS,
  ): DataLoader<number, PaperRow[]> {
    const key = JSON.stringify([parent, filter ?? null, window, issues, columns]);
    let loader = pageLoaders.get(key);
    if (!loader) {
      loader = new DataLoader<number, PaperRow[]>(async (ids) => {
        const { papers, issues: editions } = await pagePapersByParents(db, parent, ids, filter, window, vis, { issues, columns });
        for (const issue of editions) issueById.prime(issue.id, issue);
        return groupBy(ids, papers, (r) => r.parentId);
      });
      pageLoaders.set(key, loader);
    }
    return loader;
  }

  function papersCount(parent: PaperParent, filter: PaperFilterArgs | undefined): DataLoader<number, number> {
    const key = JSON.stringify([parent, filter ?? null]);
    let loader = countLoaders.get(key);
    if (!loader) {
      loader = new DataLoader<number, number>(async (ids) => {
        const counts = await countPapersByParents(db, parent, ids, filter, vis);
        return ids.map((id) => counts.get(id) ?? 0);
      });
      countLoaders.set(key, loader);
    }
    return loader;
  }

  /** Forget everything cached (after a mutation, so the same request sees new data). */
  function clearAll(): void {
    for (const l of [issueById, issueBySlug, categoryById, categoryBySlug, paperById, paperSummary, paperNumberAsWritten, papersBySectionId]) {
      (l as DataLoader<unknown, unknown>).clearAll();
    }
    for (const l of sectionLoaders.values()) l.clearAll();
    pageLoaders.clear();
    countLoaders.clear();
  }

  return {
    issueById,
    issueBySlug,
    categoryById,
    categoryBySlug,
    sectionsByIssueId,
    sectionsOf,
    paperById,
    paperSummary,
    paperNumberAsWritten,
    papersBySectionId,
    papersPage,
    papersCount,
    clearAll,
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
