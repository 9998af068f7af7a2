import { asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../client.js';
import { type CategoryRow, type SectionRow, categories, sections } from '../schema.js';

/**
 * Sections of several editions with their categories (one statement: a
 * section is never shown without its category), in edition then number order.
 */
export async function sectionsByIssueIds(
  db: Db,
  issueIds: readonly number[],
): Promise<Array<{ section: SectionRow; category: CategoryRow }>> {
  return db
    .select({ section: sections, category: categories })
    .from(sections)
    .innerJoin(categories, eq(categories.id, sections.categoryId))
    .where(inArray(sections.issueId, [...issueIds]))
    .orderBy(asc(sections.issueId), asc(sections.number));
}
