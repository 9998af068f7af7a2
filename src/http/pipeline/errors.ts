import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { isDatabaseUnavailable, isTimeout } from '../../db/availability.js';

/** Seconds a client should wait before retrying while the database is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * PostgreSQL's "this is not a date it can store" (invalid_datetime_format,
 * datetime_field_overflow, invalid_time_zone_displacement_value — what a
 * year beyond 9999 written "+010000-01-06" gets): a date derived from an input
 * (a week's end, six days after a start near 9999-12-31) that the Date
 * scalar could not see.
 */
const DATE_STATES = new Set(['22007', '22008', '22009']);

/** Whether an error (or one it wraps: cause, originalError) is a date PostgreSQL refused. */
export function isDateOutOfRange(error: unknown): boolean {
  let current: unknown = error;
  for (let i = 0; i < 8 && current && typeof current === 'object'; i++) {
    const e = current as { code?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof e.code === 'string' && DATE_STATES.has(e.code)) return true;
    current = e.originalError ?? e.cause;
  }
  return false;
}

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
  if (isDateOutOfRange(error)) {
    return withPath(
      error,
      'A date is out of range: dates are between 1900-01-01 and 9999-12-31 (a week ends six days after it starts)',
      {
        code: 'BAD_USER_INPUT',
      },
    );
  }
  // Everything else: Yoga's own masking ("Unexpected error.", INTERNAL_SERVER_ERROR, no details);
  // GraphQLErrors raised on purpose (BAD_USER_INPUT, auth) pass through unchanged.
  return yogaMaskError(error, message, isDev);
}
