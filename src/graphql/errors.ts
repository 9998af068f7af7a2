import { GraphQLError } from 'graphql';

/** Error codes clients can rely on (in `errors[].extensions.code`). */
type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED';

/** A client mistake: shown as is (not masked), with a machine-readable code. */
export function userInputError(message: string, argumentName?: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', ...(argumentName ? { argumentName } : {}) },
  });
}
