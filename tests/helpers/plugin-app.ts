import type { Plugin } from 'graphql-yoga';
import { createApp } from '../../src/app.js';
import type { Db } from '../../src/db/client.js';
import type { GraphQLErrorBody } from './http.js';
import { createEvents } from '../../src/events.js';

/**
 * The app (createApp, limits effectively off) with extra plugins: `before` go
 * where the server puts logging and metrics (ahead of the limits: they must
 * see every request), `after` where it puts persisted operations (behind them).
 */
export function createPluginApp(db: Db, { before = [], after = [] }: { before?: Plugin[]; after?: Plugin[] }) {
  const events = createEvents();
  return Object.assign(createApp({ db, events, observability: before, plugins: after }), { events });
}

/**
 * POSTs a GraphQL body (any shape) and returns status, headers and parsed JSON.
 * `data` is `T` when given; by default it is read as it comes.
 */
// biome-ignore lint/suspicious/noExplicitAny: the bodies are hashes of persisted operations and odd shapes, not typed documents
export async function postJson<T = any>(
  app: Pick<ReturnType<typeof createPluginApp>, 'fetch'>,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const res = await app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: JSON.parse(text) as { data?: T; errors?: GraphQLErrorBody[]; extensions?: Record<string, unknown> },
  };
}
