import type { Db } from './client.js';
import { ensureCategories, insertEdition, issueIdBySlug } from './queries/editions.js';
import { sampleCategories, sampleEdition } from './sample-edition.js';

/**
 * Loads the sample edition (2025-05-05) with its five categories. Idempotent:
 * when an edition with the sample's slug exists, nothing changes.
 * Returns whether it inserted anything.
 */
export async function seedSample(db: Db): Promise<boolean> {
  return db.transaction(async (tx) => {
    const txDb = tx as unknown as Db;
    if ((await issueIdBySlug(txDb, sampleEdition.slug)) !== null) return false;
    const categoryIds = await ensureCategories(txDb, sampleCategories);
    await insertEdition(txDb, {
      slug: sampleEdition.slug,
      title: sampleEdition.title,
      subtitle: sampleEdition.subtitle,
      weekStart: sampleEdition.weekStart,
      weekEnd: sampleEdition.weekEnd,
      intro: sampleEdition.intro,
      outro: sampleEdition.outro,
      asides: sampleEdition.asides,
      status: 'published',
      publishedAt: new Date(sampleEdition.publishedAt),
      sections: sampleEdition.sections.map((s) => ({
        categoryId: categoryIds.get(s.categorySlug)!,
        papers: s.papers,
      })),
    });
    return true;
  });
}
