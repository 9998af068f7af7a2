/**
 * The HTTP limit (bench/perf.ts): a bare node:http server that reads the
 * request body and answers fixed bytes — the same bytes this API answers for
 * a query. The answer for a request is chosen by the `x-bench-query` header
 * (Q1, Q2, …), each answer read from a file given on the command line.
 *
 *   node --import tsx bench/systems/static.ts --port 4103 Q1=/tmp/q1.json Q2=/tmp/q2.json
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { port: { type: 'string', default: '4103' } } });
const bodies = new Map<string, Buffer>();
for (const arg of positionals) {
  const [name, file] = arg.split('=') as [string, string];
  bodies.set(name, readFileSync(file));
}
const server = createServer((req, res) => {
  const body = bodies.get(String(req.headers['x-bench-query'] ?? ''));
  req.on('data', () => {});
  req.on('end', () => {
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${values.port}/`));
const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
