import { ConflictError, NotFoundError, ParseError, ValidationError } from '../../errors.js';
import { builder } from '../builder.js';

/** Every typed error of a mutation result implements this; `... on UserError { message }` catches all. */
export const UserErrorInterface = builder.interfaceRef<Error & { code: string }>('UserError').implement({
  description: 'An expected failure of a mutation, with a message for people and a code for programs.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, for people.' }),
    code: t.exposeString('code', {
      description: 'What went wrong, for programs: VALIDATION, CONFLICT, NOT_FOUND, PARSE…',
    }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input breaks a rule (a length, a format, a range). Nothing was written.',
  interfaces: [UserErrorInterface],
  isTypeOf: (v) => v instanceof ValidationError,
  fields: (t) => ({
    path: t.exposeStringList('path', {
      description: 'Path of the offending input field, e.g. ["input", "weekStart"].',
    }),
  }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  description: 'The change clashes with what is stored (a slug already used, a stale version). Nothing was written.',
  interfaces: [UserErrorInterface],
  isTypeOf: (v) => v instanceof ConflictError,
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The object to change does not exist, or is not visible to you. Nothing was written.',
  interfaces: [UserErrorInterface],
  isTypeOf: (v) => v instanceof NotFoundError,
});

builder.objectType(ParseError, {
  name: 'ParseError',
  description: 'The edition text cannot be read (bad encoding, a NUL byte, no structure). Nothing was written.',
  interfaces: [UserErrorInterface],
  isTypeOf: (v) => v instanceof ParseError,
  fields: (t) => ({
    line: t.exposeInt('line', { nullable: true, description: 'The 1-based line of the input, when known.' }),
    reason: t.exposeString('reason', {
      description: 'Machine-readable kind: INVALID_ENCODING, NUL_BYTE, EMPTY, STRUCTURE, NUMBERING.',
    }),
  }),
});
