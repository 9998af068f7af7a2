import type { TadaDocumentNode } from 'gql.tada';
import { print } from 'graphql';
import type { App } from '../../src/app.js';

/** A GraphQL error as the server sends it. */
export interface GraphQLErrorBody {
  message: string;
  extensions?: Record<string, unknown>;
  path?: unknown[];
}

export interface GraphQLResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: GraphQLErrorBody[]; extensions?: Record<string, unknown> };
}

/** Any document made by tests/graphql.ts (`never`: every variables type is assignable here). */
export type AnyDocument = TadaDocumentNode<unknown, never>;
export type ResultOfDocument<D> = D extends TadaDocumentNode<infer R, infer _V> ? R : never;
export type VariablesOfDocument<D> = D extends TadaDocumentNode<infer _R, infer V> ? V : never;
/** Variables are required when the operation declares a required variable. */
export type VariableArgs<D> =
  Record<string, never> extends VariablesOfDocument<D>
    ? [variables?: VariablesOfDocument<D>, headers?: Record<string, string>]
    : [variables: VariablesOfDocument<D>, headers?: Record<string, string>];

/**
 * Sends one GraphQL request through the app's fetch (real HTTP semantics, no socket).
 *
 * With a document from `graphql()` (tests/graphql.ts), `body.data` has the
 * operation's result type and the variables are checked. A string document is
 * for what the schema cannot type (hostile, malformed or deliberately invalid
 * requests): its `data` is `T`, loosely typed unless given.
 */
export async function gql<D extends AnyDocument>(
  app: App,
  document: D,
  ...args: VariableArgs<D>
): Promise<GraphQLResponse<ResultOfDocument<D>>>;
// biome-ignore lint/suspicious/noExplicitAny: an untyped (string) document's data is whatever the server sent
export async function gql<T = Record<string, any>>(
  app: App,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<GraphQLResponse<T>>;
export async function gql(
  app: App,
  document: string | AnyDocument,
  ...[variables, headers = {}]: [variables?: unknown, headers?: Record<string, string>]
): Promise<GraphQLResponse> {
  const res = await app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query: documentText(document), variables }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) };
}

/** The text of a document: a string as given, a parsed one printed. */
export function documentText(document: string | AnyDocument): string {
  return typeof document === 'string' ? document : print(document);
}

/** `extensions.cost` as the limits plugin sends it (src/http/pipeline/limits.ts). */
export interface CostExtension {
  requested: number;
  /** Objects in the result: absent when the operation was refused before it ran. */
  actual?: number;
  limit: number;
  /** Rate-limit points charged: only on an operation that ran. */
  points?: number;
}

/** The cost extension of a response body, when the server sent one. */
export function costOf(body: { extensions?: Record<string, unknown> }): CostExtension | undefined {
  return body.extensions?.cost as CostExtension | undefined;
}

/** The code of the first error, e.g. BAD_USER_INPUT. */
export function errorCode(res: GraphQLResponse): unknown {
  return res.body.errors?.[0]?.extensions?.code;
}
