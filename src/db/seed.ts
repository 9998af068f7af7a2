import type { Db } from './client.js';
import { ensureCategories, insertIssueContent, issueIdBySlug } from './queries/issue-content.js';
import { sampleCategories, sampleIssue } from './sample-edition.js';

/**
 * Loads the sample edition (2025-05-05) with its five categories. Idempotent:
 * when an edition with the sample's slug exists, nothing changes.
 * Returns whether it inserted anything.
 */
export async function seedSample(db: Db): Promise<boolean> {
  return db.transaction(async (tx) => {
    const txDb = tx as unknown as Db;
    if ((await issueIdBySlug(txDb, sampleIssue.slug)) !== null) return false;
    const categoryIds = await ensureCategories(txDb, sampleCategories);
    await insertIssueContent(txDb, {
      slug: sampleIssue.slug,
      title: sampleIssue.title,
      subtitle: sampleIssue.subtitle,
      weekStart: sampleIssue.weekStart,
      weekEnd: sampleIssue.weekEnd,
      intro: sampleIssue.intro,
      outro: sampleIssue.outro,
      asides: sampleIssue.asides,
      status: 'published',
      publishedAt: new Date(sampleIssue.publishedAt),
      sections: sampleIssue.sections.map((s) => ({
        categoryId: categoryIds.get(s.categorySlug)!,
        papers: s.papers,
      })),
    });
    return true;
  });
}
