/**
 * bench/systems/api.ts, run from the compiled build (`npm run build` → dist/)
 * with plain `node`, as production runs (`node dist/server.js`): no TypeScript
 * loader in the process. Same flags: --port, --cache, --log-statements.
 *
 *   npm run build && DATABASE_URL=… node bench/systems/api-dist.mjs --port 4100 [--cache]
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createApp } from '../../dist/app.js';
import { createDb } from '../../dist/db/client.js';
import { createResponseCache } from '../../dist/http/response-cache.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4100' },
    cache: { type: 'boolean', default: false },
    'log-statements': { type: 'boolean', default: false },
  },
});
const base = process.env.DATABASE_URL;
if (!base) throw new Error('DATABASE_URL is required');
const url = new URL(base);
if (values['log-statements']) url.searchParams.set('options', '-c log_statement=all');

const handle = await createDb({ url: url.toString(), poolMax: 10 });
const app = createApp({
  db: handle.db,
  limits: undefined,
  ...(values.cache ? { responseCache: createResponseCache({ ttlMs: 60_000 }) } : {}),
});
const server = createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${values.port}/graphql`);
});
const stop = async () => {
  server.close();
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 5000).unref();
  await handle.close().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
