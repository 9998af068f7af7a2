import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError, parse, print } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export type PersistedOperationsMode = 'off' | 'only';

/** Where `npm run client:manifest` writes the manifest of the example client's operations. */
export const DEFAULT_MANIFEST_PATH = 'examples/client/persisted-operations.json';

/** Codes of the rejections (also in README "Persisted operations"). */
export const PERSISTED_ERROR_CODES = {
  /** A `persistedQuery.sha256Hash` that is not in the manifest. */
  notFound: 'PERSISTED_QUERY_NOT_FOUND',
  /** Query text that is not in the manifest, or a request with neither a hash nor a query. */
  only: 'PERSISTED_QUERY_ONLY',
} as const;

/** The SHA-256 (hex) of a document's text: the key of the manifest. */
export function operationHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Reads a manifest `{ "<sha256 hex>": "<document>" }`, checking every key against its document. */
export function loadManifest(manifestPath: string): Map<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the persisted operations manifest ${manifestPath}: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(
      `The persisted operations manifest ${manifestPath} must be a JSON object { "<sha256>": "<document>" }`,
    );
  }
  const manifest = new Map<string, string>();
  for (const [hash, document] of Object.entries(raw)) {
    if (typeof document !== 'string' || !/^[0-9a-f]{64}$/.test(hash) || operationHash(document) !== hash) {
      throw new Error(
        `The persisted operations manifest ${manifestPath} has an entry whose key is not the sha256 of its document: ${hash}`,
      );
    }
    manifest.set(hash, document);
  }
  return manifest;
}

function rejection(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

/** A document's text is bounded by the body limit; its parse here by a token limit as tight as the API's. */
const MAX_TOKENS_FOR_LOOKUP = 1_000;

/**
 * Persisted operations ("trusted documents").
 *
 * - `off` (the default): any operation is accepted; no plugin at all.
 * - `only`: an operation runs only when it is in the manifest, sent either the
 *   standard way, `extensions: { persistedQuery: { version: 1, sha256Hash } }`
 *   (no `query` needed), or as a full `query` whose text (as sent, or once
 *   normalised by graphql-js `print`) hashes to a key of the manifest. Anything
 *   else is a 400 with `PERSISTED_QUERY_NOT_FOUND` (unknown hash) or
 *   `PERSISTED_QUERY_ONLY` (unknown text, or neither) — decided from the
 *   request parameters, before the context (token lookup) and any SQL.
 *
 * The manifest is read once, when the plugins are made: a missing or invalid
 * manifest stops the server at start. `serverDocuments` (the MCP tools'
 * operations) are added to it.
 */
export function persistedOperations(
  mode: PersistedOperationsMode,
  manifestPath: string = DEFAULT_MANIFEST_PATH,
  serverDocuments: readonly string[] = [],
): Plugin[] {
  if (mode === 'off') return [];
  const manifest = loadManifest(manifestPath);
  // The server's own operations (the MCP tools') are trusted as the manifest's are.
  for (const document of serverDocuments) manifest.set(operationHash(document), document);

  // Turns a known full query text into the standard hash form, so that the
  // persisted-operations plugin below handles both forms the same way.
  const queryTextToHash: Plugin = {
    onParams({ params, setParams }) {
      const extensions = (params.extensions ?? {}) as Record<string, unknown>;
      const persisted = extensions.persistedQuery as { sha256Hash?: unknown } | undefined;
      if (persisted && typeof persisted === 'object' && typeof persisted.sha256Hash === 'string') {
        // A hash wins over any text sent along with it (Apollo's APQ sends both): the manifest's document runs.
        setParams({
          operationName: params.operationName,
          variables: params.variables,
          extensions: { ...extensions, persistedQuery: { version: 1, sha256Hash: persisted.sha256Hash } },
        });
        return;
      }
      if (typeof params.query !== 'string') return;
      let hash: string | undefined = operationHash(params.query);
      if (!manifest.has(hash)) {
        try {
          hash = operationHash(print(parse(params.query, { noLocation: true, maxTokens: MAX_TOKENS_FOR_LOOKUP })));
        } catch {
          hash = undefined;
        }
      }
      if (!hash || !manifest.has(hash)) {
        throw rejection(
          'Only persisted operations are accepted by this server; this query is not in its manifest.',
          PERSISTED_ERROR_CODES.only,
        );
      }
      setParams({
        operationName: params.operationName,
        variables: params.variables,
        extensions: { ...extensions, persistedQuery: { version: 1, sha256Hash: hash } },
      });
    },
  };

  return [
    queryTextToHash,
    usePersistedOperations({
      allowArbitraryOperations: false,
      getPersistedOperation: (key) => manifest.get(key) ?? null,
      customErrors: {
        notFound: {
          message: 'Unknown persisted operation: its sha256Hash is not in the manifest of this server.',
          extensions: { code: PERSISTED_ERROR_CODES.notFound, http: { status: 400 } },
        },
        persistedQueryOnly: {
          message: 'Only persisted operations are accepted by this server; this query is not in its manifest.',
          extensions: { code: PERSISTED_ERROR_CODES.only, http: { status: 400 } },
        },
        keyNotFound: {
          message: 'Only persisted operations are accepted by this server: send extensions.persistedQuery.sha256Hash.',
          extensions: { code: PERSISTED_ERROR_CODES.only, http: { status: 400 } },
        },
      },
    }) as Plugin,
  ];
}
