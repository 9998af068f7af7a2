/**
 * This API as one benchmark system (bench/perf.ts): createApp over a pg pool
 * of 10, served by node:http on 127.0.0.1. No migrations, no seeding, limits
 * nobody reaches (NO_LIMITS): the database is ready.
 *
 * By default it runs the compiled build (`npm run build` → dist/) with plain
 * `node`, as production does (`npm run start:dist`); with --source it loads
 * the TypeScript sources instead (then run it under `node --import tsx`).
 *
 *   npm run build && DATABASE_URL=… node --max-old-space-size=256 bench/systems/api.mjs --port 4100 [--cache]
 *   DATABASE_URL=… node --import tsx bench/systems/api.mjs --source --port 4100
 *
 * --cache            with the in-memory response cache (TTL 60 s) and its response tier in front of
 *                    Yoga, as src/server.ts runs them (the tier charges the same never-reached limits)
 * --no-tier          with --cache: without the response tier (every hit goes through Yoga)
 * --log-statements   every pool connection runs with log_statement=all (the
 *                    benchmark counts statements per request from PostgreSQL's log)
 * --cpu-prof FILE    CPU profile (V8, like `node --cpu-prof`, but through the
 *                    inspector so that start-up stays out): SIGUSR2 starts it,
 *                    SIGTERM stops it and writes FILE (a .cpuprofile, for
 *                    Chrome DevTools or speedscope) before exiting
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4100' },
    cache: { type: 'boolean', default: false },
    'no-tier': { type: 'boolean', default: false },
    source: { type: 'boolean', default: false },
    'log-statements': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const from = (file) => new URL(values.source ? `../../src/${file}.ts` : `../../dist/${file}.js`, import.meta.url).href;
const { createApp } = await import(from('app'));
const { createDb } = await import(from('db/client'));
const { createResponseCache } = await import(from('http/pipeline/response-cache'));
const { NO_LIMITS, admitNodeRequest, createRateLimits } = await import(from('http/pipeline/rate-limits'));

const base = process.env.DATABASE_URL;
if (!base) throw new Error('DATABASE_URL is required');
const url = new URL(base);
// createDb has no option for extra session settings; node-postgres takes `options` from the URL
// (and the URL's values win over the pool's own `options`: the timeouts are off while counting).
if (values['log-statements']) url.searchParams.set('options', '-c log_statement=all');

const handle = await createDb({ url: url.toString(), poolMax: 10 });
const limits = createRateLimits(NO_LIMITS);
const responseCache = values.cache ? createResponseCache({ ttlMs: 60_000 }) : undefined;
const app = createApp({ db: handle.db, limits, responseCache });
const tier = responseCache && !values['no-tier'];
const server = createServer(tier ? responseCache.responses.handler(app, { admit: admitNodeRequest(limits) }) : app);
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${values.port}/graphql`);
});
let profiler;
if (values['cpu-prof']) {
  process.on('SIGUSR2', () => {
    if (profiler) return;
    profiler = new Session();
    profiler.connect();
    void profiler.post('Profiler.enable').then(() => profiler.post('Profiler.start'));
  });
}
const stop = async () => {
  server.close();
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 5000).unref();
  if (profiler && values['cpu-prof']) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(values['cpu-prof'], JSON.stringify(profile));
  }
  await handle.close().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
