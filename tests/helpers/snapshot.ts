import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { selectRows } from '../../src/db/queries/util.js';

/** A fingerprint of every editorial row: equal before and after means nothing changed. */
export async function snapshot(db: Db): Promise<string> {
  const rows = await selectRows<{ s: string }>(
    db,
    sql`SELECT json_build_object(
      'issues', (SELECT coalesce(json_agg(i ORDER BY i.id), '[]') FROM (SELECT id, slug, title, subtitle, intro, outro, status, version, week_start, week_end, published_at, updated_at FROM issues) i),
      'sections', (SELECT coalesce(json_agg(s ORDER BY s.id), '[]') FROM sections s),
      'papers', (SELECT coalesce(json_agg(p ORDER BY p.id), '[]') FROM (SELECT id, section_id, category_id, section_number, position, title, summary, url, arxiv_id, version, updated_at FROM papers) p),
      'categories', (SELECT coalesce(json_agg(c ORDER BY c.id), '[]') FROM (SELECT id, slug, name, description FROM categories) c),
      'aliases', (SELECT coalesce(json_agg(a ORDER BY a.slug), '[]') FROM (SELECT slug, category_id FROM category_aliases) a)
    )::text AS s`,
  );
  return rows[0]!.s;
}
