/**
 * `npm run bench:data -- --papers N [--fresh] [--seed S] [--per-week 20]`
 *
 * Fills DATABASE_URL (or the PGlite DATA_DIR) with generated weekly editions
 * for benchmarks: 12 categories, about 20 papers per week over 5 sections,
 * summaries of 150–250 words drawn from a Zipf-distributed LLM-research
 * vocabulary (so "reward model" is common and some terms are rare), titles
 * that often name a model family, and an arXiv id per paper. Deterministic for
 * a given seed. Without --fresh the new editions follow the latest week.
 *
 * Fast at 1 M papers on PostgreSQL: multi-row INSERTs of whole batches of
 * editions (about 11 000 bound parameters per statement) on two connections,
 * and on a large fresh load the two GIN indexes are dropped first and rebuilt
 * at the end from their own definitions. The editions are made by
 * src/fixtures/generate.ts (benchIssue), written by src/db/seed.ts.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { ensureCategories } from '../db/queries/issue-content.js';
import {
  analyzeArchive,
  archiveEnd,
  countPapers,
  dropPaperSearchIndexes,
  insertIssuesInBulk,
  rebuildIndexes,
  truncateArchive,
} from '../db/seed.js';
import { type BenchArchive, GENERATED_CATEGORIES, addDaysIso, benchIssue } from '../fixtures/generate.js';
import { openCommandDb } from './database.js';

const { values } = parseArgs({
  options: {
    papers: { type: 'string', default: '10000' },
    fresh: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    'per-week': { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '2' },
  },
});
const TOTAL = Number(values.papers);
const PER_WEEK = Number(values['per-week']);
const SEED = Number(values.seed);
const CONCURRENCY = Math.max(1, Number(values.concurrency));
if (!Number.isInteger(TOTAL) || TOTAL < 1 || !Number.isInteger(PER_WEEK) || PER_WEEK < 5 || PER_WEEK > 200) {
  console.error('usage: bench-data --papers N (N ≥ 1) [--fresh] [--seed S] [--per-week 5..200] [--concurrency C]');
  process.exit(2);
}

const ISSUES_PER_BATCH = Math.max(1, Math.floor(1000 / PER_WEEK));

const config = loadConfig();
const handle = await openCommandDb(config, 'bench:data', { poolMax: CONCURRENCY + 1 });
const db = handle.db;

if (values.fresh) await truncateArchive(db);
const categoryIds = [...(await ensureCategories(db, GENERATED_CATEGORIES)).values()];

const end = await archiveEnd(db);
const archive: BenchArchive = {
  seed: SEED,
  total: TOTAL,
  perWeek: PER_WEEK,
  firstWeek: end.lastWeek ? addDaysIso(end.lastWeek, 7) : '2015-01-05',
  issueOffset: end.issues,
  categoryIds,
};
const editions = Math.ceil(TOTAL / PER_WEEK);

// A big load into PostgreSQL: build the GIN indexes once at the end instead of row by row.
const rebuild = handle.kind === 'postgres' && TOTAL >= 50_000 ? await dropPaperSearchIndexes(db) : [];

const started = performance.now();
let next = 0;
let done = 0;
async function worker(): Promise<void> {
  for (;;) {
    const from = next;
    if (from >= editions) return;
    next = Math.min(editions, from + ISSUES_PER_BATCH);
    const batch = [];
    for (let e = from; e < next; e++) batch.push(benchIssue(archive, e));
    await insertIssuesInBulk(db, batch);
    done += batch.length;
    if (Math.floor(done / ISSUES_PER_BATCH) % 50 === 0 || done === editions) {
      const s = (performance.now() - started) / 1000;
      process.stderr.write(`\r${Math.min(done * PER_WEEK, TOTAL)} / ${TOTAL} papers, ${s.toFixed(0)} s   `);
    }
  }
}
// Workers interleave, but each edition's text depends only on its index and the seed.
await Promise.all(Array.from({ length: handle.kind === 'postgres' ? CONCURRENCY : 1 }, () => worker()));
process.stderr.write('\n');

if (rebuild.length > 0) {
  const t = performance.now();
  // The pool has CONCURRENCY + 1 connections; one stays free for the progress of the others.
  await rebuildIndexes(db, rebuild, CONCURRENCY);
  console.error(`rebuilt ${rebuild.length} GIN indexes in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}
await analyzeArchive(handle);
const total = await countPapers(db);
console.error(
  `${TOTAL} papers in ${editions} editions added in ${((performance.now() - started) / 1000).toFixed(1)} s; the archive has ${total} papers`,
);
await handle.close();
