/**
 * In-process cost of the read queries (no HTTP, no load generator): createApp
 * over a pg pool, each query sent N times through app.fetch, one at a time,
 * after a warm-up. Prints the median and mean ms per request. For profiling:
 *
 *   DATABASE_URL=…/bench_perf node --import tsx bench/inprocess.ts Q1 400 [profile.cpuprofile]
 *
 * CACHE=1 in the environment: with the in-memory response cache (then every
 * measured request is a cache hit).
 *
 * With a third argument, the measured requests (not start-up or warm-up) are
 * profiled and the V8 CPU profile is written there.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createApp } from '../src/app.js';
import { createDb } from '../src/db/client.js';
import { createResponseCache } from '../src/http/pipeline/response-cache.js';

const QUERIES: Record<string, string> = {
  Q1: '{ issues(first: 20) { nodes { sections { number category { name } papers { number title } } } } }',
  Q2: '{ categories { name papers(first: 10) { nodes { title issue { title } } } } }',
  Q3: '{ searchPapers(query: "reward model", first: 20) { edges { node { title issue { title } } matches { field fragment highlights { start end } } } } }',
  Q0: '{ __typename }',
  Q4: '{ paper(issue: "bench-2024-12-30", number: "2.3") { title summary arxivId issue { title } } }',
};
const [name = 'Q1', nArg = '300', profileFile] = process.argv.slice(2);
const query = QUERIES[name];
if (!query) throw new Error(`unknown query ${name}`);
const n = Number(nArg);
const handle = await createDb({ url: process.env.DATABASE_URL, poolMax: 10 });
const app = createApp({
  db: handle.db,
  limits: undefined,
  ...(process.env.CACHE ? { responseCache: createResponseCache({ ttlMs: 600_000 }) } : {}),
});
const body = JSON.stringify({ query });
async function once(): Promise<number> {
  const t = performance.now();
  const res = await app.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"errors"')) throw new Error(text.slice(0, 500));
  return performance.now() - t;
}
for (let i = 0; i < Math.min(100, n); i++) await once();
const times: number[] = [];
const session = profileFile ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const cpu0 = process.cpuUsage();
for (let i = 0; i < n; i++) times.push(await once());
const cpu = process.cpuUsage(cpu0);
if (session && profileFile) writeFileSync(profileFile, JSON.stringify((await session.post('Profiler.stop')).profile));
times.sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b, 0) / n;
console.log(
  `${name}: median ${times[Math.floor(n / 2)]!.toFixed(2)} ms, mean ${mean.toFixed(2)} ms, CPU ${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms/request over ${n}`,
);
await handle.close();
