import { asc, eq, inArray, sql } from '../orm.js';
import type { Db } from '../client.js';
import { type CategoryRow, categories, categoryAliases } from '../schema.js';
import { prepared } from './util.js';

export function categoriesByIds(db: Db, ids: readonly number[]): Promise<CategoryRow[]> {
  return prepared(db, 'categories_by_ids_v1', (as) =>
    db
      .select()
      .from(categories)
      .where(sql`${categories.id} = ANY(${sql.placeholder('ids')}::int[])`)
      .prepare(as ?? ''),
  ).execute({ ids: [...ids] });
}

/** Categories by current slug, or by an old slug kept after a rename or merge. */
export async function categoriesBySlugs(
  db: Db,
  slugs: readonly string[],
): Promise<Array<{ requestedSlug: string; category: CategoryRow }>> {
  const current = await db
    .select({ requestedSlug: categories.slug, category: categories })
    .from(categories)
    .where(inArray(categories.slug, [...slugs]));
  const found = new Set(current.map((r) => r.requestedSlug));
  const missing = slugs.filter((s) => !found.has(s));
  if (missing.length === 0) return current;
  const aliased = await db
    .select({ requestedSlug: categoryAliases.slug, category: categories })
    .from(categoryAliases)
    .innerJoin(categories, eq(categories.id, categoryAliases.categoryId))
    .where(inArray(categoryAliases.slug, missing));
  return [...current, ...aliased];
}

/** Every category, alphabetically by name. */
export function allCategories(db: Db): Promise<CategoryRow[]> {
  // (prepared: every category page and the benchmark's Q2 start here; building the statement cost more than running it)
  return prepared(db, 'all_categories_v1', (as) =>
    db
      .select()
      .from(categories)
      .orderBy(asc(categories.name), asc(categories.id))
      .prepare(as ?? ''),
  ).execute();
}
