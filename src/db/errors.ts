/**
 * Database failures that are the client's doing, recognised by their
 * PostgreSQL SQLSTATE (the same on PGlite and pg), so that callers can turn
 * them into typed errors instead of a masked 500.
 */
export type DbFailure =
  | { kind: 'unique'; constraint: string | null }
  | { kind: 'foreign_key'; constraint: string | null }
  | { kind: 'check'; constraint: string | null }
  | { kind: 'invalid_text' }
  | { kind: 'invalid_datetime' }
  | { kind: 'too_long' }
  | { kind: 'serialization' };

interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
  cause?: unknown;
}

/** Finds the driver error (Drizzle wraps it in DrizzleQueryError.cause). */
function sqlState(err: unknown): { code: string; constraint: string | null } | null {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const e = current as PgLikeError;
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      return { code: e.code, constraint: typeof e.constraint === 'string' ? e.constraint : null };
    }
    current = e.cause;
  }
  return null;
}

export function classifyDbError(err: unknown): DbFailure | null {
  const state = sqlState(err);
  if (!state) return null;
  switch (state.code) {
    case '23505':
      return { kind: 'unique', constraint: state.constraint };
    case '23503':
      return { kind: 'foreign_key', constraint: state.constraint };
    case '23514':
      return { kind: 'check', constraint: state.constraint };
    case '22021': // invalid byte sequence (NUL in text)
    case '22P05': // untranslatable character
    case '54000': // program limit exceeded (e.g. a too large index row)
      return { kind: 'invalid_text' };
    case '22007':
    case '22008':
      return { kind: 'invalid_datetime' };
    case '22001':
      return { kind: 'too_long' };
    case '40001':
    case '40P01':
      return { kind: 'serialization' };
    default:
      return null;
  }
}
