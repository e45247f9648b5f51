import { GraphQLError } from 'graphql';

/** The contract's error codes (see contract.graphql). */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  TWILIO_AUTH_FAILED: 'TWILIO_AUTH_FAILED',
  CONTACT_OPTED_OUT: 'CONTACT_OPTED_OUT',
  RATE_LIMITED: 'RATE_LIMITED',
  /** Not a contract code: a dependency (Twilio's API) could not be reached; nothing was stored. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * A domain error: services throw it, GraphQL answers it as is with `extensions.code`.
 * Anything else reaching the client is logged and answered as INTERNAL_SERVER_ERROR.
 */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extra, code } });
    this.code = code;
    this.name = 'AppError';
  }
}

export const badInput = (message: string, field?: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const notFound = (what: string) => new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
export const conflict = (message: string) => new AppError(ErrorCode.CONFLICT, message);
export const unauthenticated = (message = 'Authentication required') =>
  new AppError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message = 'Your role may not do this') => new AppError(ErrorCode.FORBIDDEN, message);

/** An unknown thrown value as text, for logs and stored error messages. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Postgres unique_violation, whichever driver raised it (postgres.js or PGlite), possibly wrapped by drizzle. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const pgError = e as { code?: unknown; constraint_name?: unknown; constraint?: unknown };
    if (pgError.code === '23505') {
      if (!constraint) return true;
      return pgError.constraint_name === constraint || pgError.constraint === constraint;
    }
  }
  return false;
}
