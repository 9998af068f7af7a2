import { createYoga, type Plugin } from 'graphql-yoga';
import { viewerFromRequest } from '../../src/auth/viewer.js';
import { type Context, createContext } from '../../src/context.js';
import type { Db } from '../../src/db/client.js';
import { createEvents } from '../../src/events.js';
import { schema } from '../../src/graphql/schema.js';
import { limitsPlugins } from '../../src/http/limits.js';

/**
 * A Yoga like createApp's (same schema, context, limits — effectively
 * unlimited — and error masking) with extra plugins: `before` go ahead of the
 * limits plugins (logging must see every request), `after` behind them.
 */
export function createPluginApp(db: Db, { before = [], after = [] }: { before?: Plugin[]; after?: Plugin[] }) {
  const events = createEvents();
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    context: async ({ request }) => createContext(db, events, await viewerFromRequest(db, request)),
    graphiql: false,
    landingPage: false,
    batching: false,
    maskedErrors: true,
    logging: false,
    plugins: [
      ...before,
      ...limitsPlugins({ rateLimit: { points: 1_000_000_000, durationSec: 3600, maxInFlight: 1_000_000 }, trustProxy: false }),
      ...after,
    ],
  });
  return Object.assign(yoga, { events });
}

/** POSTs a GraphQL body (any shape) and returns status, headers and parsed JSON. */
export async function postJson(
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
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }>; extensions?: any } };
}
