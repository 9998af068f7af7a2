import type { App } from '../../src/app.js';

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: Array<{ message: string; extensions?: Record<string, unknown>; path?: unknown[] }>; extensions?: Record<string, unknown> };
}

/** Sends one GraphQL request through the app's fetch (real HTTP semantics, no socket). */
export async function gql<T = Record<string, any>>(
  app: App,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const res = await app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) };
}

/** The code of the first error, e.g. BAD_USER_INPUT. */
export function errorCode(res: GraphQLResponse): unknown {
  return res.body.errors?.[0]?.extensions?.code;
}
