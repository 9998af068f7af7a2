/**
 * Quick check of one search page's SQL time per query class (RELEVANCE and
 * NEWEST, text mode), on one database; no report is written.
 *
 *   DATABASE_URL=…/bench_1m npx tsx bench/search-quick.ts [runs]
 */
import { parseSearchQuery } from '../src/search/query.js';
import { createDb } from '../src/db/client.js';
import { relevanceWindow, searchPage } from '../src/db/queries/search.js';
import { percentile } from './report.js';

const QUERIES: Record<string, string[]> = {
  common: ['reward model', 'reasoning', 'distillation', 'quantization', 'hallucination'],
  rare: ['Orion-417', 'Atlas-12 model', 'Vega-731', 'Helix-250 reasoning', 'Zephyr-88'],
  medium: ['copyright', 'licensing', 'memorization', 'unlearning', 'watermarking'],
  phrase: [
    '"chain of thought"',
    '"mixture of experts"',
    '"reward model"',
    '"speculative decoding"',
    '"tree of thoughts"',
  ],
};
const runs = Number(process.argv[2] ?? 10);
// CANDIDATES=N ranks N candidates instead of the default; WINDOW=0 searches without relevanceWindow.
const candidates = process.env.CANDIDATES ? Number(process.env.CANDIDATES) : undefined;
const handle = await createDb({ url: process.env.DATABASE_URL, poolMax: 2, statementTimeoutMs: 60_000 });
for (const [kind, queries] of Object.entries(QUERIES)) {
  for (const order of (process.env.ORDERS ?? 'RELEVANCE,NEWEST').split(',') as Array<'RELEVANCE' | 'NEWEST'>) {
    const page = async (q: string) => {
      const since =
        order === 'RELEVANCE' && process.env.WINDOW !== '0'
          ? await relevanceWindow(handle.db, { terms: parseSearchQuery(q) }, candidates)
          : null;
      return searchPage(
        handle.db,
        { terms: parseSearchQuery(q), order, mode: 'text', cursor: null, limit: 21, window: since, candidates },
        { drafts: false },
      );
    };
    for (const q of queries) await page(q);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const q = queries[i % queries.length]!;
      const t = performance.now();
      await page(q);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${kind.padEnd(7)} ${order.padEnd(9)} p50 ${percentile(times, 50).toFixed(1)} p95 ${percentile(times, 95).toFixed(1)} ms`,
    );
  }
}
await handle.close();
