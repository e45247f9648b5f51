import { badInput } from './errors.js';

/**
 * Pages over rows keyed by an increasing bigint id (audit events, webhook deliveries), newest
 * first. The cursor is the opaque base64url of the id.
 */
export function encodeSeqCursor(id: number): string {
  return Buffer.from(`s${id}`, 'utf8').toString('base64url');
}

export function decodeSeqCursor(raw: string | null | undefined, field = 'after'): number | null {
  if (raw === null || raw === undefined) return null;
  const match = /^s(\d{1,18})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!match) throw badInput(`${field} is not a valid cursor`, field);
  return Number(match[1]);
}

export interface SeqPage<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * A forward-only connection from `limit + 1` rows fetched in order (the extra row only says there
 * is more); every paged list builds its page here, whatever its cursor.
 */
export function pageFrom<T>(rows: T[], limit: number, hadCursor: boolean, cursorOf: (row: T) => string): SeqPage<T> {
  const edges = rows.slice(0, limit).map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      // Keyset pages only go forward: a page reached through a cursor has something before it.
      hasPreviousPage: hadCursor,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** `rows` were fetched with limit + 1 to tell whether a next page exists. */
export function toSeqPage<T>(rows: T[], limit: number, hadCursor: boolean, idOf: (row: T) => number): SeqPage<T> {
  return pageFrom(rows, limit, hadCursor, (row) => encodeSeqCursor(idOf(row)));
}
