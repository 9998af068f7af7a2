/**
 * PostGraphile v5 (Amber preset) over the archive's tables, for bench/perf.ts.
 *
 *   DATABASE_URL=postgres://…/bench_perf PORT=4102 node server.mjs [--log-statements]
 *
 * Exposes the schemas `public` (the app's tables) and `bench_peer` (one SQL
 * function, search_papers(query), created by bench/perf.ts: PostGraphile has
 * no full-text search of its own). Pool of 10 connections, like the app.
 * With --log-statements every connection runs with log_statement=all (the
 * benchmark counts SQL statements per request from PostgreSQL's log).
 */
import './polyfill.mjs';
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const connectionString = process.env.DATABASE_URL;
if (!connectionString) throw new Error('DATABASE_URL is required');
const port = Number(process.env.PORT ?? 4102);
const logStatements = process.argv.includes('--log-statements');

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ['public', 'bench_peer'],
      poolConfig: { max: 10, ...(logStatements ? { options: '-c log_statement=all' } : {}) },
    }),
  ],
  grafserv: { port, host: '127.0.0.1', graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on('error', (e) => {
  console.error(e);
  process.exit(1);
});
await serv.addTo(server);
// Build the schema (introspection) before announcing readiness.
await pgl.getSchema();
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${port}/graphql`);
});
const stop = () => {
  server.close();
  void Promise.resolve(pgl.release()).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
