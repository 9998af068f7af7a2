/**
 * Database handles whose statements must stay unnamed (DB_PREPARED_STATEMENTS=off): a pooler in transaction
 * mode (PgBouncer 1.18) may hand the next execution of a named statement to a server connection that never
 * saw its name. Statements are still built once (queries/util.ts `prepared`), then sent unnamed: parsed and
 * planned at every execution.
 */
const unnamedSessions = new WeakSet<object>();

const sessionOf = (db: object) => (db as { session: object }).session;

export function useUnnamedStatements(db: object): void {
  unnamedSessions.add(sessionOf(db));
}

export function usesUnnamedStatements(db: object): boolean {
  return unnamedSessions.has(sessionOf(db));
}
