import { z } from 'zod';
import type { Db } from '../db/client.js';
import * as q from '../db/queries/editorial.js';
import type { CategoryRow, IssueRow } from '../db/schema.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import {
  arxivIdSchema,
  dateString,
  positionSchema,
  slugSchema,
  text,
  urlSchema,
  validate,
  versionSchema,
} from './validation.js';
import { inTransaction } from './transaction.js';
import { recordCategoryMerged, recordCategoryUpdated, recordIssueEvent, recordPaperEvent } from './webhook-events.js';

// An import is one more editorial write: the same rules, transaction and error mapping (./import.ts).
export { type ImportOptions, type ImportResult, importIssueText } from './import.js';

/** What a write changed, for subscriptions (sent after commit). */
export interface Changes {
  updatedIssueIds: number[];
  publishedIssueIds: number[];
}

/** Changes of a write that updated these editions and published none. */
const updated = (issueIds: number[]): Changes => ({ updatedIssueIds: issueIds, publishedIssueIds: [] });

/** Optimistic concurrency: the editor must have read the version that is stored now. */
function requireVersion(thing: 'edition' | 'paper', read: number, stored: number): void {
  if (stored !== read) {
    throw new ConflictError(`The ${thing} changed since you read it (version ${read}, now ${stored}); read it again`);
  }
}

/** The version check passed but a concurrent write bumped the version before ours. */
const changedMeanwhile = (thing: 'edition' | 'paper') =>
  new ConflictError(`The ${thing} changed since you read it; read it again`);

const nullable = <T extends z.ZodType>(s: T) => s.nullish();

// ---------------------------------------------------------------- issues

const createIssueSchema = z
  .object({
    slug: slugSchema,
    title: text.title,
    subtitle: text.subtitle.default(''),
    weekStart: z.date(),
    weekEnd: z.date().nullish(),
    intro: text.intro.default(''),
    outro: text.outro.default(''),
  })
  .refine((v) => !v.weekEnd || v.weekStart <= v.weekEnd, {
    message: 'must not be before weekStart',
    path: ['weekEnd'],
  });

export type CreateIssueInput = z.input<typeof createIssueSchema>;

export async function createIssue(db: Db, input: CreateIssueInput): Promise<{ issue: IssueRow; changes: Changes }> {
  const v = validate(createIssueSchema, input);
  const weekStart = dateString(v.weekStart);
  const weekEnd = v.weekEnd ? dateString(v.weekEnd) : dateString(new Date(v.weekStart.getTime() + 6 * 86_400_000));
  const issue = await inTransaction(db, (tx) =>
    q.insertIssue(tx, {
      slug: v.slug,
      title: v.title,
      subtitle: v.subtitle,
      weekStart,
      weekEnd,
      intro: v.intro,
      outro: v.outro,
      asides: [],
    }),
  );
  return { issue, changes: updated([issue.id]) };
}

const updateIssueSchema = z.object({
  id: z.number().int(),
  version: versionSchema,
  slug: slugSchema.nullish(),
  title: text.title.nullish(),
  subtitle: text.subtitle.nullish(),
  weekStart: z.date().nullish(),
  weekEnd: z.date().nullish(),
  intro: text.intro.nullish(),
  outro: text.outro.nullish(),
});

export type UpdateIssueInput = z.input<typeof updateIssueSchema>;

export async function updateIssue(db: Db, input: UpdateIssueInput): Promise<{ issue: IssueRow; changes: Changes }> {
  const v = validate(updateIssueSchema, input);
  const issue = await inTransaction(db, async (tx) => {
    const current = await q.issueById(tx, v.id, true);
    if (!current) throw new NotFoundError('No edition has this id');
    requireVersion('edition', v.version, current.version);
    const weekStart = v.weekStart ? dateString(v.weekStart) : current.weekStart;
    const weekEnd = v.weekEnd ? dateString(v.weekEnd) : current.weekEnd;
    if (weekStart > weekEnd) throw new ValidationError('weekEnd must not be before weekStart', ['input', 'weekEnd']);
    const fields = {
      ...(v.slug != null ? { slug: v.slug } : {}),
      ...(v.title != null ? { title: v.title } : {}),
      ...(v.subtitle != null ? { subtitle: v.subtitle } : {}),
      ...(v.intro != null ? { intro: v.intro } : {}),
      ...(v.outro != null ? { outro: v.outro } : {}),
      ...(v.weekStart ? { weekStart } : {}),
      ...(v.weekEnd ? { weekEnd } : {}),
    };
    const row = await q.updateIssueIfVersion(tx, v.id, v.version, fields);
    if (!row) throw changedMeanwhile('edition');
    await recordIssueEvent(tx, 'issue.updated', row.id);
    return row;
  });
  return { issue, changes: updated([issue.id]) };
}

export async function deleteIssue(db: Db, id: number): Promise<{ slug: string }> {
  return inTransaction(db, async (tx) => {
    const current = await q.issueById(tx, id, true);
    if (!current) throw new NotFoundError('No edition has this id');
    if (current.status === 'published') await recordIssueEvent(tx, 'issue.unpublished', id, { deleted: true });
    await q.deleteIssueById(tx, id);
    return { slug: current.slug };
  });
}

export async function publishIssue(db: Db, id: number): Promise<{ issue: IssueRow; changes: Changes }> {
  const result = await inTransaction(db, async (tx) => {
    const published = await q.publishIssueById(tx, id);
    if (published?.changed) await recordIssueEvent(tx, 'issue.published', id);
    return published;
  });
  if (!result) throw new NotFoundError('No edition has this id');
  const changes: Changes = result.changed ? { updatedIssueIds: [id], publishedIssueIds: [id] } : updated([]);
  return { issue: result.row, changes };
}

export async function unpublishIssue(db: Db, id: number): Promise<{ issue: IssueRow; changes: Changes }> {
  const result = await inTransaction(db, async (tx) => {
    const unpublished = await q.unpublishIssueById(tx, id);
    if (unpublished?.changed) await recordIssueEvent(tx, 'issue.unpublished', id);
    return unpublished;
  });
  if (!result) throw new NotFoundError('No edition has this id');
  return { issue: result.row, changes: updated(result.changed ? [id] : []) };
}

// ---------------------------------------------------------------- papers

const paperFields = {
  title: text.title,
  summary: text.summary,
  url: nullable(urlSchema),
  arxivId: nullable(arxivIdSchema),
};

const addPaperSchema = z.object({
  issueId: z.number().int(),
  category: slugSchema,
  position: positionSchema.nullish(),
  ...paperFields,
  summary: text.summary.default(''),
});

export type AddPaperInput = z.input<typeof addPaperSchema>;

/** Finds the edition and locks it: paper edits of one edition are serialised. */
async function lockedIssue(tx: Db, issueId: number): Promise<IssueRow> {
  const issue = await q.issueById(tx, issueId, true);
  if (!issue) throw new NotFoundError('No edition has this id');
  return issue;
}

async function categoryIdForSlug(tx: Db, slug: string, path: string[]): Promise<number> {
  const id = await q.categoryIdBySlugOrAlias(tx, slug);
  if (id === null) throw new ValidationError(`No category has the slug "${slug}"`, path);
  return id;
}

/**
 * Adds a paper to the edition's section of `category` (a new last section
 * when the edition has none) at `position` (default: last).
 */
export async function addPaper(db: Db, input: AddPaperInput): Promise<{ paperId: number; changes: Changes }> {
  const v = validate(addPaperSchema, input);
  const paperId = await inTransaction(db, async (tx) => {
    const issue = await lockedIssue(tx, v.issueId);
    const categoryId = await categoryIdForSlug(tx, v.category, ['input', 'category']);
    const layout = await q.issueLayout(tx, issue.id);
    let section = layout.find((s) => s.categoryId === categoryId);
    if (!section) {
      if (layout.length >= 999) throw new ValidationError('An edition has at most 999 sections', ['input', 'category']);
      section = { sectionId: null, categoryId, paperIds: [] };
      layout.push(section);
    }
    if (section.paperIds.length >= 999) {
      throw new ValidationError('A section has at most 999 papers', ['input', 'category']);
    }
    const position = Math.min(v.position ?? section.paperIds.length + 1, section.paperIds.length + 1);
    if (section.sectionId === null) section.sectionId = await q.insertSection(tx, issue.id, categoryId, layout.length);
    // Insert at the end of its section (a free number), then lay the section out with the paper at its place.
    const id = await q.insertPaperRow(tx, {
      issueId: issue.id,
      sectionId: section.sectionId,
      categoryId,
      weekStart: issue.weekStart,
      sectionNumber: layout.indexOf(section) + 1,
      position: section.paperIds.length + 1,
      title: v.title,
      summary: v.summary,
      url: v.url ?? null,
      arxivId: v.arxivId ?? null,
    });
    section.paperIds.splice(position - 1, 0, id);
    await q.applyLayout(tx, issue.id, layout);
    await q.touchIssue(tx, issue.id);
    await recordPaperEvent(tx, 'paper.created', id);
    return id;
  });
  return { paperId, changes: updated([v.issueId]) };
}

const updatePaperSchema = z.object({
  id: z.number().int(),
  version: versionSchema,
  title: text.title.nullish(),
  summary: text.summary.nullish(),
  url: nullable(urlSchema),
  arxivId: nullable(arxivIdSchema),
});

export type UpdatePaperInput = z.input<typeof updatePaperSchema> & { clearUrl?: boolean; clearArxivId?: boolean };

export async function updatePaper(db: Db, input: UpdatePaperInput): Promise<{ paperId: number; changes: Changes }> {
  const v = validate(updatePaperSchema, input);
  const issueId = await inTransaction(db, async (tx) => {
    const place = await q.paperPlaceById(tx, v.id, true);
    if (!place) throw new NotFoundError('No paper has this id');
    requireVersion('paper', v.version, place.version);
    const fields = {
      ...(v.title != null ? { title: v.title } : {}),
      ...(v.summary != null ? { summary: v.summary } : {}),
      ...(v.url != null ? { url: v.url } : input.clearUrl ? { url: null } : {}),
      ...(v.arxivId != null ? { arxivId: v.arxivId } : input.clearArxivId ? { arxivId: null } : {}),
    };
    if (!(await q.updatePaperIfVersion(tx, v.id, v.version, fields))) {
      throw changedMeanwhile('paper');
    }
    await q.touchIssue(tx, place.issueId);
    await recordPaperEvent(tx, 'paper.updated', v.id);
    return place.issueId;
  });
  return { paperId: v.id, changes: updated([issueId]) };
}

const movePaperSchema = z.object({
  id: z.number().int(),
  category: slugSchema.nullish(),
  position: positionSchema,
});

/** Moves a paper inside its edition: to another section (by category) and/or position; all numbers follow. */
export async function movePaper(
  db: Db,
  input: z.input<typeof movePaperSchema>,
): Promise<{ paperId: number; changes: Changes }> {
  const v = validate(movePaperSchema, input);
  const issueId = await inTransaction(db, async (tx) => {
    const place = await q.paperPlaceById(tx, v.id);
    if (!place) throw new NotFoundError('No paper has this id');
    await lockedIssue(tx, place.issueId);
    const categoryId = v.category ? await categoryIdForSlug(tx, v.category, ['input', 'category']) : place.categoryId;
    const layout = await q.issueLayout(tx, place.issueId);
    for (const s of layout) s.paperIds = s.paperIds.filter((id) => id !== v.id);
    let target = layout.find((s) => s.categoryId === categoryId);
    if (!target) {
      const created = await q.insertSection(tx, place.issueId, categoryId, layout.length + 1);
      target = { sectionId: created, categoryId, paperIds: [] };
      layout.push(target);
    }
    target.paperIds.splice(Math.min(v.position, target.paperIds.length + 1) - 1, 0, v.id);
    await q.applyLayout(tx, place.issueId, layout);
    await q.touchIssue(tx, place.issueId);
    await recordPaperEvent(tx, 'paper.updated', v.id);
    return place.issueId;
  });
  return { paperId: v.id, changes: updated([issueId]) };
}

export async function deletePaper(db: Db, id: number): Promise<{ issueId: number; changes: Changes }> {
  const issueId = await inTransaction(db, async (tx) => {
    const place = await q.paperPlaceById(tx, id);
    if (!place) throw new NotFoundError('No paper has this id');
    await lockedIssue(tx, place.issueId);
    await recordPaperEvent(tx, 'paper.deleted', id);
    await q.deletePaperById(tx, id);
    await q.applyLayout(tx, place.issueId, await q.issueLayout(tx, place.issueId));
    await q.touchIssue(tx, place.issueId);
    return place.issueId;
  });
  return { issueId, changes: updated([issueId]) };
}

/** Puts the edition's sections in a new order, given as category slugs (a permutation of the current ones). */
export async function reorderSections(
  db: Db,
  input: { issueId: number; categories: string[] },
): Promise<{ changes: Changes }> {
  const v = validate(z.object({ issueId: z.number().int(), categories: z.array(slugSchema).max(999) }), input);
  await inTransaction(db, async (tx) => {
    await lockedIssue(tx, v.issueId);
    const layout = await q.issueLayout(tx, v.issueId);
    const ids = await Promise.all(v.categories.map((slug) => q.categoryIdBySlugOrAlias(tx, slug)));
    const current = layout.map((s) => s.categoryId);
    const permutation =
      ids.length === current.length &&
      new Set(ids).size === ids.length &&
      ids.every((id) => id !== null && current.includes(id));
    if (!permutation) {
      throw new ValidationError('categories must list each section of the edition exactly once, by category slug', [
        'input',
        'categories',
      ]);
    }
    const ordered = ids.map((id) => layout.find((s) => s.categoryId === id)!);
    await q.applyLayout(tx, v.issueId, ordered);
    await q.touchIssue(tx, v.issueId);
    await recordIssueEvent(tx, 'issue.updated', v.issueId);
  });
  return { changes: updated([v.issueId]) };
}

// ---------------------------------------------------------------- categories

const categorySchema = z.object({
  slug: slugSchema,
  name: text.categoryName,
  description: text.description.default(''),
});

export async function createCategory(db: Db, input: z.input<typeof categorySchema>): Promise<CategoryRow> {
  const v = validate(categorySchema, input);
  return inTransaction(db, async (tx) => {
    if (await q.slugTaken(tx, v.slug)) throw new ConflictError(`The slug "${v.slug}" is already used by a category`);
    return q.insertCategory(tx, v);
  });
}

const updateCategorySchema = z.object({
  id: z.number().int(),
  slug: slugSchema.nullish(),
  name: text.categoryName.nullish(),
  description: text.description.nullish(),
});

/** Renames a category; an old slug keeps resolving to it. */
export async function updateCategory(
  db: Db,
  input: z.input<typeof updateCategorySchema>,
): Promise<{ category: CategoryRow; changes: Changes }> {
  const v = validate(updateCategorySchema, input);
  return inTransaction(db, async (tx) => {
    const current = await q.categoryById(tx, v.id, true);
    if (!current) throw new NotFoundError('No category has this id');
    if (v.slug != null && v.slug !== current.slug) {
      if (await q.slugTaken(tx, v.slug, current.id)) {
        throw new ConflictError(`The slug "${v.slug}" is already used by a category`);
      }
      await q.deleteCategoryAlias(tx, v.slug);
      await q.addCategoryAlias(tx, current.slug, current.id);
    }
    const category = await q.updateCategoryRow(tx, v.id, {
      ...(v.slug != null ? { slug: v.slug } : {}),
      ...(v.name != null ? { name: v.name } : {}),
      ...(v.description != null ? { description: v.description } : {}),
    });
    await recordCategoryUpdated(tx, category!);
    return { category: category!, changes: updated(await q.issueIdsWithCategory(tx, v.id)) };
  });
}

/**
 * Merges `sourceId` into `targetId`: every paper moves to the target category
 * (into the edition's target section when it has one), the source is deleted
 * and its slug keeps resolving to the target.
 */
export async function mergeCategories(
  db: Db,
  input: { sourceId: number; targetId: number },
): Promise<{ category: CategoryRow; changes: Changes }> {
  if (input.sourceId === input.targetId) {
    throw new ValidationError('Cannot merge a category into itself', ['input', 'sourceId']);
  }
  return inTransaction(db, async (tx) => {
    const [first, second] = [input.sourceId, input.targetId].sort((a, b) => a - b) as [number, number];
    // lock both in id order (no deadlock between concurrent merges)
    const a = await q.categoryById(tx, first, true);
    const b = await q.categoryById(tx, second, true);
    const source = a?.id === input.sourceId ? a : b;
    const target = a?.id === input.targetId ? a : b;
    if (!source) throw new NotFoundError('No category has the source id');
    if (!target) throw new NotFoundError('No category has the target id');
    const issueIds = await q.issueIdsWithCategory(tx, source.id);
    for (const issueId of issueIds) {
      const layout = await q.issueLayout(tx, issueId);
      const from = layout.find((s) => s.categoryId === source.id)!;
      const into = layout.find((s) => s.categoryId === target.id);
      if (into) {
        into.paperIds.push(...from.paperIds);
        from.paperIds = [];
      } else {
        from.categoryId = target.id;
      }
      await q.applyLayout(tx, issueId, layout);
      await q.touchIssue(tx, issueId);
    }
    await q.moveCategoryAliases(tx, source.id, target.id);
    await q.deleteCategoryRow(tx, source.id);
    await q.addCategoryAlias(tx, source.slug, target.id);
    await recordCategoryMerged(tx, source, target);
    return { category: target, changes: updated(issueIds) };
  });
}
