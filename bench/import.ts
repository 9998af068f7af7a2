/**
 * Importing a big archive: 500 editions × 20 papers (10 000 papers) rendered
 * as Markdown and imported one by one through the same code path as
 * `npm run import` (parse, check, one transaction per edition), into a fresh
 * PostgreSQL database and, side by side, into an in-memory PGlite.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type DbHandle, createDb } from '../src/db/client.js';
import { generateIssueDocument } from '../src/fixtures/generate.js';
import { renderMarkdown } from '../src/newsletter/markdown.js';
import { importIssueText } from '../src/editorial/import.js';
import { machineLine, median, writeSection } from './report.js';

const { values } = parseArgs({
  options: {
    editions: { type: 'string', default: '500' },
    papers: { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' },
  },
});
const ISSUES = Number(values.editions);
const PAPERS = Number(values.papers);
const RUNS = Number(values.runs);
const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function withPostgres<T>(fn: (handle: DbHandle) => Promise<T>): Promise<T> {
  const name = `bench_import_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: BASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  const handle = await createDb({ url: url.toString() });
  try {
    await handle.migrate();
    return await fn(handle);
  } finally {
    await handle.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function withPglite<T>(fn: (handle: DbHandle) => Promise<T>): Promise<T> {
  const handle = await createDb();
  try {
    await handle.migrate();
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

const texts = Array.from({ length: ISSUES }, (_, i) => renderMarkdown(generateIssueDocument(i, { papers: PAPERS })));
const megabytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0) / 1e6;
console.error(`${ISSUES} editions, ${ISSUES * PAPERS} papers, ${megabytes.toFixed(1)} MB of Markdown`);

async function importAll(handle: DbHandle): Promise<number> {
  const started = performance.now();
  for (const text of texts) {
    const r = await importIssueText(handle.db, text, { format: 'markdown', publish: true });
    if (r.paperCount !== PAPERS) throw new Error(`expected ${PAPERS} papers, got ${r.paperCount}`);
  }
  return (performance.now() - started) / 1000;
}

const versionClient = new pg.Client({ connectionString: BASE_URL });
await versionClient.connect();
const pgVersion = (await versionClient.query<{ server_version: string }>('SHOW server_version')).rows[0]!
  .server_version;
await versionClient.end();

const results: Record<string, number[]> = { PostgreSQL: [], PGlite: [] };
for (let run = 0; run < RUNS; run++) {
  // alternate the order so that neither always runs on a warmer machine
  const order = run % 2 === 0 ? (['PostgreSQL', 'PGlite'] as const) : (['PGlite', 'PostgreSQL'] as const);
  for (const system of order) {
    const seconds = await (system === 'PostgreSQL' ? withPostgres(importAll) : withPglite(importAll));
    results[system]!.push(seconds);
    console.error(`run ${run + 1}: ${system} ${seconds.toFixed(2)} s`);
  }
}

const row = (system: string) => {
  const s = results[system]!;
  const m = median(s);
  return `| ${system} | ${m.toFixed(2)} s | ${(ISSUES / m).toFixed(0)} editions/s | ${((ISSUES * PAPERS) / m).toFixed(0)} papers/s | ${s.map((x) => x.toFixed(2)).join(', ')} |`;
};
writeSection(
  'import',
  `## Import of a big archive (\`bench/import.ts\`)

${ISSUES} generated editions × ${PAPERS} papers (${ISSUES * PAPERS} papers, ${megabytes.toFixed(1)} MB of Markdown, summaries of 150–250 words),
imported one edition per transaction through the importer (\`npm run import\` code path), into a fresh database.
Target: under 30 s on PostgreSQL.

| database | median total | editions/s | papers/s | all runs |
| --- | --- | --- | --- | --- |
${row('PostgreSQL')}
${row('PGlite')}

Machine: ${machineLine()}. PostgreSQL ${pgVersion.split(' ')[0]} on 127.0.0.1; ${RUNS} runs, alternating order.`,
);
console.error('wrote BENCHMARKS.md (import)');
