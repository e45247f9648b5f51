import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '../shared/logger.js';
import { DomainError, ErrorCode } from '../shared/errors.js';

/**
 * The GraphQL `extensions.code` of each domain error code. Exhaustive: a new ErrorCode does not
 * compile until it is mapped here (and in src/http/domain-errors.ts).
 */
const GRAPHQL_CODE: Record<ErrorCode, string> = {
  [ErrorCode.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [ErrorCode.FORBIDDEN]: 'FORBIDDEN',
  [ErrorCode.BAD_USER_INPUT]: 'BAD_USER_INPUT',
  [ErrorCode.NOT_FOUND]: 'NOT_FOUND',
  [ErrorCode.CONFLICT]: 'CONFLICT',
  [ErrorCode.TWILIO_AUTH_FAILED]: 'TWILIO_AUTH_FAILED',
  [ErrorCode.CONTACT_OPTED_OUT]: 'CONTACT_OPTED_OUT',
  [ErrorCode.RATE_LIMITED]: 'RATE_LIMITED',
  [ErrorCode.SERVICE_UNAVAILABLE]: 'SERVICE_UNAVAILABLE',
};

/**
 * Domain errors go to the client with their contract code; GraphQL's own (parse, validation,
 * variable coercion, query limits) as they are. Anything else is a bug or an outage: logged in
 * full with the request id, answered as INTERNAL_SERVER_ERROR with no internals.
 */
/**
 * GraphQL's and Apollo's own errors (parse, validation, variable coercion, graphql-armor limits).
 * Checked by shape as well as class: graphql-armor loads graphql's CommonJS build and test
 * runners may load another copy, so such an error need not be an instance of our GraphQLError.
 * Plain errors (a database error, a bug) never carry `locations` and `extensions`.
 */
function isGraphQLError(error: unknown): boolean {
  if (error instanceof GraphQLError) return true;
  return error instanceof Error && 'extensions' in error && 'locations' in error;
}

export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
  requestId?: string,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof DomainError) {
    return { ...formatted, message: original.message, extensions: { ...original.details, code: GRAPHQL_CODE[original.code] } };
  }
  if (isGraphQLError(original)) return formatted;
  logger.error({ err: original, requestId, path: formatted.path }, 'unexpected error in GraphQL operation');
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
  };
}
