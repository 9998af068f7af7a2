/**
 * The HTTP limits (bench/perf.ts): a server that reads the request body and
 * answers fixed bytes — the same bytes this API answers for a query. The
 * answer for a request is chosen by the `x-bench-query` header (Q1, Q2, …),
 * each answer read from a file given on the command line.
 *
 * - default: a bare node:http handler (what node itself costs);
 * - --adapter: the same answer through @whatwg-node/server's adapter, the
 *   fetch-API layer graphql-yoga runs every request through (a Request in, a
 *   Response out, nothing else): the floor of any answer Yoga gives, a
 *   response-cache hit included.
 *
 *   node --import tsx bench/systems/static.ts --port 4103 [--adapter] Q1=/tmp/q1.json Q2=/tmp/q2.json
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createServerAdapter } from '@whatwg-node/server';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string', default: '4103' }, adapter: { type: 'boolean', default: false } },
});
const bodies = new Map<string, Buffer>();
for (const arg of positionals) {
  const [name, file] = arg.split('=') as [string, string];
  bodies.set(name, readFileSync(file));
}
const CONTENT_TYPE = 'application/graphql-response+json; charset=utf-8';

const adapter = createServerAdapter(async (request: Request) => {
  const body = bodies.get(request.headers.get('x-bench-query') ?? '');
  await request.arrayBuffer();
  return body
    ? new Response(body.toString(), { headers: { 'content-type': CONTENT_TYPE } })
    : new Response(null, { status: 404 });
});

const server = createServer(
  values.adapter
    ? adapter
    : (req, res) => {
        if (req.url === '/readyz') {
          res.writeHead(200).end();
          return;
        }
        const body = bodies.get(String(req.headers['x-bench-query'] ?? ''));
        req.on('data', () => {});
        req.on('end', () => {
          if (!body) {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': body.length });
          res.end(body);
        });
      },
);
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${values.port}/`));
const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
