import { isUuid } from '../shared/ids.js';
import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { Field, ObjectType } from 'type-graphql';
import { badInput } from '../shared/errors.js';
import { pageFrom } from '../shared/seq-page.js';

/** Relay page info, shared by every connection of the API (contract: PageInfo). */
@ObjectType('PageInfo', { simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean)
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `first` as given by a client: default when absent, BAD_USER_INPUT outside 1..MAX_PAGE_SIZE. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`, 'first');
  }
  return first;
}

/**
 * A keyset position: the sort timestamp as Postgres' exact text (microseconds, UTC) and the row id.
 * JS Dates keep milliseconds only, so a cursor built from one would skip or repeat rows whose
 * timestamps differ below the millisecond; the text round-trips exactly through ::timestamptz.
 */
export interface KeysetCursor {
  ts: string;
  id: string;
}

const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(`${cursor.ts}|${cursor.id}`, 'utf8').toString('base64url');
}

/** Opaque to clients; a cursor we did not issue is BAD_USER_INPUT, not a database error. */
export function decodeCursor(raw: string | null | undefined, field: string): KeysetCursor | null {
  if (raw === null || raw === undefined) return null;
  const [ts, id, ...rest] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !ts || !CURSOR_TS.test(ts) || !isUuid(id)) throw badInput(`${field} is not a valid cursor`, field);
  return { ts, id };
}

/** The column's exact value as cursor text (see KeysetCursor). */
export function cursorText(column: PgColumn): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * Rows strictly after `cursor` in (ts desc, id desc) order. The cursor's parts are values, or any
 * SQL giving them (a placeholder, a sub-select: see ConversationsRepository's list).
 */
export function olderThan(tsColumn: PgColumn, idColumn: PgColumn, cursor: KeysetCursor | { ts: SQL; id: SQL }): SQL {
  return sql`(${tsColumn}, ${idColumn}) < (${cursor.ts}::timestamptz, ${cursor.id}::uuid)`;
}

/** Rows strictly after `cursor` in (ts asc, id asc) order (oldest-first connections). */
export function newerThan(tsColumn: PgColumn, idColumn: PgColumn, cursor: KeysetCursor): SQL {
  return sql`(${tsColumn}, ${idColumn}) > (${cursor.ts}::timestamptz, ${cursor.id}::uuid)`;
}

export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfo;
}

/** Builds a connection from `limit + 1` rows fetched in order (the extra row only says there is more). */
export function toPage<T>(rows: Array<{ row: T; cursorTs: string; id: string }>, limit: number, hadCursor: boolean): Page<T> {
  const page = pageFrom(rows, limit, hadCursor, (r) => encodeCursor({ ts: r.cursorTs, id: r.id }));
  return { edges: page.edges.map((e) => ({ cursor: e.cursor, node: e.node.row })), pageInfo: page.pageInfo };
}
