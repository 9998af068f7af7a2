import { type Db, setLocalStatementTimeout } from '../db/client.js';
import { type DbFailure, classifyDbError } from '../db/errors.js';
import { ConflictError, type DomainError, ValidationError } from '../errors.js';

/** What a duplicate of each unique constraint means to an editor. */
const UNIQUE_MESSAGES: Readonly<Record<string, string>> = {
  issues_slug_key: 'An edition with this slug already exists',
  categories_slug_key: 'A category with this slug already exists',
  sections_issue_category_key: 'That category already has a section in this edition',
};

/** The typed error for a database failure that is the input's fault. */
function domainError(failure: DbFailure): DomainError {
  switch (failure.kind) {
    case 'unique':
      return new ConflictError(
        (failure.constraint && UNIQUE_MESSAGES[failure.constraint]) ?? 'This would duplicate an existing entry',
      );
    case 'serialization':
      return new ConflictError('Another change to the same data happened at the same time; read it again and retry');
    case 'foreign_key':
      return new ConflictError('This refers to something that no longer exists');
    case 'check':
      return new ValidationError(
        'A value is out of range (e.g. the week ends before it starts, or a number above 999)',
      );
    case 'invalid_text':
      return new ValidationError('The text contains characters that cannot be stored');
    case 'invalid_datetime':
      return new ValidationError('A date is not valid');
    case 'too_long':
      return new ValidationError('A value is too long');
  }
}

export interface TransactionOptions {
  /** Statement timeout for this transaction only (an import writes a whole edition). */
  statementTimeoutMs?: number;
}

/**
 * Runs `fn` in one transaction: every editorial write, the import included.
 * Database failures that are the input's fault become typed errors; anything
 * else propagates (and is masked by Yoga).
 */
export async function inTransaction<T>(
  db: Db,
  fn: (tx: Db) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  try {
    return await db.transaction(async (tx) => {
      const txDb = tx as unknown as Db;
      if (options.statementTimeoutMs !== undefined) await setLocalStatementTimeout(txDb, options.statementTimeoutMs);
      return fn(txDb);
    });
  } catch (err) {
    const failure = classifyDbError(err);
    throw failure ? domainError(failure) : err;
  }
}
