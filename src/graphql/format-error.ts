import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '../shared/logger.js';
import { AppError } from '../shared/errors.js';

/**
 * Domain errors and GraphQL's own (parse, validation, variable coercion) go to the client as
 * they are. Anything else is a bug or an outage: logged in full with the request id, answered
 * as INTERNAL_SERVER_ERROR with no internals.
 */
export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
  requestId?: string,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) return { ...formatted, extensions: { ...original.extensions } };
  if (original instanceof GraphQLError && original.originalError === undefined) return formatted;
  logger.error({ err: original, requestId, path: formatted.path }, 'unexpected error in GraphQL operation');
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
  };
}
