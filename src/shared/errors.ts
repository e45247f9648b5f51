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
 * A domain error: a plain error with a contract code, thrown by services (which know nothing of
 * GraphQL or HTTP). The edges map it: src/graphql/format-error.ts to `extensions.code`, REST routes
 * to an HTTP status (src/http/domain-errors.ts), both exhaustively over ErrorCode. Anything else
 * reaching a client is logged and answered as INTERNAL_SERVER_ERROR / 500.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable facts for the client (e.g. `field`, `retryAfterSeconds`). */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /**
   * What a client sees besides the message. graphql-js copies an original error's `extensions`
   * when it wraps it (locatedError), so subscription errors, which bypass formatError, carry the
   * code too.
   */
  get extensions(): Record<string, unknown> {
    return { ...this.details, code: this.code };
  }
}

/** @deprecated The former name, kept so branches started before DomainError still compile; use DomainError. */
export const AppError = DomainError;
/** @deprecated Use DomainError. */
export type AppError = DomainError;

export const badInput = (message: string, field?: string) =>
  new DomainError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);
export const conflict = (message: string) => new DomainError(ErrorCode.CONFLICT, message);
export const unauthenticated = (message = 'Authentication required') =>
  new DomainError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message = 'Your role may not do this') => new DomainError(ErrorCode.FORBIDDEN, message);

/** An unknown thrown value as text, for logs and stored error messages. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type PostgresErrorFields = { code?: unknown; constraint_name?: unknown; constraint?: unknown };

/** The Postgres error with SQLSTATE `code` in `error` or its causes (drizzle wraps the driver's), whichever driver raised it (postgres.js or PGlite). */
export function postgresError(error: unknown, code: string): PostgresErrorFields | null {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as PostgresErrorFields).code === code) return e as PostgresErrorFields;
  }
  return null;
}

/** Postgres unique_violation, whichever driver raised it (postgres.js or PGlite), possibly wrapped by drizzle. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pgError = postgresError(error, '23505');
  if (!pgError) return false;
  return !constraint || pgError.constraint_name === constraint || pgError.constraint === constraint;
}
