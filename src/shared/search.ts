import { sql, type SQL } from 'drizzle-orm';
import { badInput } from './errors.js';
import { refuseNul } from './text-input.js';

/**
 * A search as typed by a user, ready for SQL: case- and accent-insensitive substring matches go
 * through inbox_fold() (lower + unaccent, migration inbox_search_sql) on both sides, which the
 * pg_trgm GIN indexes are built on. A term that looks like a phone number also matches the digits
 * of numbers, however it was formatted ("415 555", "+1415", "(415)").
 */
export interface SearchTerm {
  /** `%term%` with LIKE's own characters escaped; fold it in SQL with `folded`. */
  pattern: string;
  /** `%digits%` when the term is a phone number fragment (≥ 2 digits, only phone punctuation besides). */
  digitsPattern: string | null;
}

export const MIN_SEARCH_LENGTH = 2;
export const MAX_SEARCH_LENGTH = 100;

/** Null when no search was asked for; BAD_USER_INPUT when shorter than 2 or longer than 100 characters. */
export function parseSearch(raw: string | null | undefined, field = 'search'): SearchTerm | null {
  if (raw === null || raw === undefined) return null;
  const text = refuseNul(raw, field).trim().replace(/\s+/g, ' ');
  if (text.length < MIN_SEARCH_LENGTH) throw badInput(`${field} needs at least ${MIN_SEARCH_LENGTH} characters`, field);
  if (text.length > MAX_SEARCH_LENGTH) throw badInput(`${field} may have at most ${MAX_SEARCH_LENGTH} characters`, field);
  const digits = text.replace(/\D/g, '');
  const looksLikeNumber = /^[\d\s()+\-.]+$/.test(text) && digits.length >= MIN_SEARCH_LENGTH;
  return {
    pattern: `%${escapeLike(text)}%`,
    digitsPattern: looksLikeNumber ? `%${digits}%` : null,
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `inbox_fold(expression) LIKE inbox_fold(pattern)`: the form the trigram indexes serve. */
export function foldedLike(expression: SQL | unknown, pattern: string): SQL {
  return sql`inbox_fold(${expression}) like inbox_fold(${pattern}::text)`;
}

/** `column LIKE inbox_fold(pattern)` for a column that already holds folded text (messages.body_folded). */
export function likeFolded(foldedColumn: SQL | unknown, pattern: string): SQL {
  return sql`${foldedColumn} like inbox_fold(${pattern}::text)`;
}
