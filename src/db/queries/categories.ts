import { asc, inArray } from 'drizzle-orm';
import type { Db } from '../client.js';
import { type CategoryRow, categories } from '../schema.js';

export function categoriesByIds(db: Db, ids: readonly number[]): Promise<CategoryRow[]> {
  return db.select().from(categories).where(inArray(categories.id, [...ids]));
}

export function categoriesBySlugs(db: Db, slugs: readonly string[]): Promise<CategoryRow[]> {
  return db.select().from(categories).where(inArray(categories.slug, [...slugs]));
}

/** Every category, alphabetically by name. */
export function allCategories(db: Db): Promise<CategoryRow[]> {
  return db.select().from(categories).orderBy(asc(categories.name), asc(categories.id));
}
