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

/** `rows` were fetched with limit + 1 to tell whether a next page exists. */
export function toSeqPage<T>(rows: T[], limit: number, hadCursor: boolean, idOf: (row: T) => number): SeqPage<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((node) => ({ cursor: encodeSeqCursor(idOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: hadCursor,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
