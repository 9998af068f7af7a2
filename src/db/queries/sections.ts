import { asc, inArray } from 'drizzle-orm';
import type { Db } from '../client.js';
import { type SectionRow, sections } from '../schema.js';

/** Sections of several editions, in edition then section-number order. */
export function sectionsByIssueIds(db: Db, issueIds: readonly number[]): Promise<SectionRow[]> {
  return db
    .select()
    .from(sections)
    .where(inArray(sections.issueId, [...issueIds]))
    .orderBy(asc(sections.issueId), asc(sections.number));
}
