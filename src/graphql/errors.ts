import { GraphQLError } from 'graphql';

/** A client mistake: shown as is (not masked), with a machine-readable code. */
export function userInputError(message: string, argumentName?: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', ...(argumentName ? { argumentName } : {}) },
  });
}
