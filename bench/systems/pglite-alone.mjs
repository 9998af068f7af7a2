/**
 * PGlite by itself, for bench/startup.ts's memory breakdown: the engine the server embeds, opened on
 * a data directory the server made (same extension, same shared_buffers), a few of the read path's
 * statements run, then idle. Prints its own RSS, V8 heap and external memory as JSON, after `settleMs`.
 *
 *   node bench/systems/pglite-alone.mjs DATA_DIR SHARED_BUFFERS [settleMs]
 */
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

const [dataDir, sharedBuffers, settle = '3000'] = process.argv.slice(2);
const db = new PGlite({ dataDir, extensions: { pg_trgm }, postgresqlconf: [`shared_buffers = '${sharedBuffers}'`] });
await db.waitReady;
for (let i = 0; i < 50; i++) {
  await db.query('SELECT id, title, summary FROM papers ORDER BY id DESC LIMIT 20');
  await db.query(
    "SELECT id FROM papers WHERE search_vector @@ websearch_to_tsquery('english', 'reasoning') ORDER BY id DESC LIMIT 20",
  );
}
await new Promise((r) => setTimeout(r, Number(settle)));
const m = process.memoryUsage();
console.log(JSON.stringify({ rss: m.rss, heapTotal: m.heapTotal, external: m.external }));
await db.close();
