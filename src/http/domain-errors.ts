import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ErrorCode } from '../shared/errors.js';

/**
 * The HTTP status of each domain error code, for REST routes. Exhaustive: a new ErrorCode does
 * not compile until it is mapped here (and in src/graphql/format-error.ts).
 */
const HTTP_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.BAD_USER_INPUT]: 400,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.TWILIO_AUTH_FAILED]: 422,
  [ErrorCode.CONTACT_OPTED_OUT]: 409,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
};

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/**
 * The root error handler of REST routes: a DomainError thrown by a service becomes its status and
 * `{ code, message, ...details }`; Fastify's own 4xx (body too large, bad content type) keep their
 * status; anything else is logged and answered 500 without internals.
 */
export function replyWithError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof DomainError) {
    return reply.code(httpStatusOf(error.code)).send({ ...error.details, code: error.code, message: error.message });
  }
  const status = (error as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) return reply.code(status).send({ code: (error as FastifyError).code, message: error.message });
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error', requestId: request.id });
}
