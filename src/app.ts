import { createYoga } from 'graphql-yoga';
import { viewerFromRequest } from './auth/viewer.js';
import { type Context, createContext } from './context.js';
import { type Events, createEvents } from './events.js';
import type { Db } from './db/client.js';
import { schema } from './graphql/schema.js';
import { markdownRoutes } from './http/markdown-routes.js';

export interface AppDeps {
  db: Db;
  /** Event bus for subscriptions; in-process when omitted. */
  events?: Events;
}

/** The query GraphiQL opens with: it works on the sample edition. */
export const DEFAULT_QUERY = `# Welcome to the archive of "Important LLM Papers for the Week".
# Press the run button (or Ctrl-Enter) to fetch the latest edition.
query LatestIssue {
  latestIssue {
    title
    weekStart
    weekEnd
    sections {
      number
      category { name slug }
      papers { number title arxivId }
    }
  }
}
`;

/**
 * Builds the HTTP application (a Yoga instance). It never listens: the server
 * entry point does, and tests call `app.fetch` directly.
 */
export function createApp(deps: AppDeps) {
  const events = deps.events ?? createEvents();
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // A new context, with new loaders, per request. A bad token is a 401 here.
    context: async ({ request }) => createContext(deps.db, events, await viewerFromRequest(deps.db, request)),
    graphiql: { title: 'Important LLM Papers — GraphQL API', defaultQuery: DEFAULT_QUERY },
    landingPage: false,
    batching: false,
    maskedErrors: true,
    logging: false,
    plugins: [markdownRoutes(deps.db)],
  });
}

export type App = ReturnType<typeof createApp>;
