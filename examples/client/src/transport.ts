import { createHash } from 'node:crypto';
import type { TadaDocumentNode } from 'gql.tada';
import { type DocumentNode, print } from 'graphql';

/** One GraphQL error as the API sends it. */
export interface GraphQLErrorBody {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface ExecutionResult<TData> {
  data?: TData | null;
  errors?: GraphQLErrorBody[];
  extensions?: Record<string, unknown>;
}

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errors: GraphQLErrorBody[] = [],
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql */
  url: string;
  /** `Bearer llmp_…` tokens only; anonymous when absent. */
  token?: string | undefined;
  /** Send `extensions.persistedQuery.sha256Hash` instead of the query text. */
  persisted?: boolean;
}

type AnyDocument = TadaDocumentNode<unknown, Record<string, unknown>>;

/** The text sent for a document, identical to the one in the persisted operations manifest. */
export function documentText(document: AnyDocument | DocumentNode): string {
  return print(document as unknown as DocumentNode);
}

/** The manifest key of a document: sha256 (hex) of its text. */
export function documentHash(document: AnyDocument | DocumentNode): string {
  return createHash('sha256').update(documentText(document), 'utf8').digest('hex');
}

function operationName(document: AnyDocument): string | undefined {
  for (const definition of document.definitions) {
    if (definition.kind === 'OperationDefinition') return definition.name?.value;
  }
  return undefined;
}

function requestBody(document: AnyDocument, variables: unknown, persisted: boolean): string {
  const body: Record<string, unknown> = { operationName: operationName(document), variables: variables ?? {} };
  if (persisted) body.extensions = { persistedQuery: { version: 1, sha256Hash: documentHash(document) } };
  else body.query = documentText(document);
  return JSON.stringify(body);
}

export function createClient(options: ClientOptions) {
  const headers = (accept: string): Record<string, string> => ({
    'content-type': 'application/json',
    accept,
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
  });

  /** Runs a query or mutation; resolves with `data`, rejects on any error. */
  async function request<TResult, TVariables>(
    document: TadaDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    const res = await fetch(options.url, {
      method: 'POST',
      headers: headers('application/graphql-response+json, application/json'),
      body: requestBody(document as AnyDocument, variables, options.persisted ?? false),
    });
    const text = await res.text();
    let result: ExecutionResult<TResult>;
    try {
      result = JSON.parse(text) as ExecutionResult<TResult>;
    } catch {
      throw new GraphQLRequestError(`HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
    }
    if (result.errors?.length) {
      const first = result.errors[0]!;
      throw new GraphQLRequestError(
        `${first.extensions?.code ?? 'ERROR'}: ${first.message}`,
        res.status,
        result.errors,
      );
    }
    if (!res.ok || result.data == null) throw new GraphQLRequestError(`HTTP ${res.status} without data`, res.status);
    return result.data;
  }

  /**
   * Subscribes over Server-Sent Events (GraphQL over SSE, "distinct connections"
   * mode: one POST whose response is the event stream). `onOpen` runs once the
   * server has accepted the subscription; the async iterator yields each event's data.
   */
  async function* subscribe<TResult, TVariables>(
    document: TadaDocumentNode<TResult, TVariables>,
    variables: TVariables,
    { signal, onOpen }: { signal?: AbortSignal; onOpen?: () => void } = {},
  ): AsyncGenerator<TResult> {
    const res = await fetch(options.url, {
      method: 'POST',
      headers: headers('text/event-stream'),
      body: requestBody(document as AnyDocument, variables, options.persisted ?? false),
      ...(signal ? { signal } : {}),
    });
    const type = res.headers.get('content-type') ?? '';
    if (!res.ok || !type.includes('text/event-stream') || !res.body) {
      const text = await res.text().catch(() => '');
      let errors: GraphQLErrorBody[] = [];
      try {
        errors = (JSON.parse(text) as ExecutionResult<unknown>).errors ?? [];
      } catch {
        // not JSON
      }
      const first = errors[0];
      throw new GraphQLRequestError(
        first ? `${first.extensions?.code ?? 'ERROR'}: ${first.message}` : `HTTP ${res.status}: subscription refused`,
        res.status,
        errors,
      );
    }
    onOpen?.();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue; // keep-alive comment
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (event === 'complete') return;
        if (data.length === 0) continue;
        const result = JSON.parse(data.join('\n')) as ExecutionResult<TResult>;
        if (result.errors?.length) {
          const first = result.errors[0]!;
          throw new GraphQLRequestError(
            `${first.extensions?.code ?? 'ERROR'}: ${first.message}`,
            res.status,
            result.errors,
          );
        }
        if (result.data != null) yield result.data;
      }
    }
  }

  return { request, subscribe };
}
