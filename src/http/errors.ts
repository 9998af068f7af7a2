import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { isDatabaseUnavailable, isTimeout } from '../db/availability.js';

/** Seconds a client should wait before retrying while the database is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/** Follows GraphQLError.originalError down to the error that was thrown. */
function unwrap(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 8 && current instanceof GraphQLError && current.originalError; i++) {
    current = current.originalError;
  }
  return current;
}

function withPath(error: unknown, message: string, extensions: Record<string, unknown>): GraphQLError {
  const g = error instanceof GraphQLError ? error : null;
  return new GraphQLError(message, {
    ...(g?.nodes ? { nodes: g.nodes } : {}),
    ...(g?.source ? { source: g.source } : {}),
    ...(g?.positions ? { positions: g.positions } : {}),
    ...(g?.path ? { path: g.path } : {}),
    extensions,
  });
}

/**
 * Yoga's `maskedErrors: { maskError }`. Database outages and timeouts become
 * clear, retryable errors (HTTP 503); everything else unexpected is masked
 * with no details. Errors meant for clients (GraphQLError without an
 * original error, e.g. BAD_USER_INPUT) are passed through unchanged.
 */
export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  const original = unwrap(error);
  if (isDatabaseUnavailable(original)) {
    return withPath(error, 'The database is unavailable; retry shortly', {
      code: 'SERVICE_UNAVAILABLE',
      http: { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
    });
  }
  if (isTimeout(original)) {
    return withPath(error, 'The database took too long to answer (statement or lock timeout); retry shortly', {
      code: 'TIMEOUT',
      http: { status: 503, headers: { 'Retry-After': '1' } },
    });
  }
  // Everything else: Yoga's own masking ("Unexpected error.", INTERNAL_SERVER_ERROR, no details);
  // GraphQLErrors raised on purpose (BAD_USER_INPUT, auth) pass through unchanged.
  return yogaMaskError(error, message, isDev);
}
