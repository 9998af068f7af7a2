/**
 * Expected failures of the domain. The GraphQL layer exposes each class as a
 * typed error in the schema (errors plugin); the CLIs print their messages.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
}

/** Input that breaks a rule; `path` names the offending input field. */
export class ValidationError extends DomainError {
  readonly code = 'VALIDATION';
  constructor(
    message: string,
    readonly path: string[] = [],
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** The write clashes with what is stored (an existing slug, a stale version). */
export class ConflictError extends DomainError {
  readonly code = 'CONFLICT';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The thing to change does not exist (or is not visible to the caller). */
export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The edition text could not be read; `line` is 1-based when known. */
export class ParseError extends DomainError {
  readonly code = 'PARSE';
  constructor(
    message: string,
    readonly line: number | null,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'ParseError';
  }
}
