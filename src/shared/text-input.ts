import { badInput } from './errors.js';

/**
 * Free text from a client, before it reaches a text column: Postgres refuses the NUL character in
 * text (the statement would fail as an internal error), so it is a clear BAD_USER_INPUT instead.
 */
export function refuseNul(value: string, field: string): string {
  if (value.includes('\u0000')) throw badInput(`${field} may not contain the NUL character`, field);
  return value;
}
