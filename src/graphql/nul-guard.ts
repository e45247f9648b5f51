import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import { ErrorCode } from '../shared/errors.js';

/**
 * Postgres text cannot hold U+0000: a NUL in any GraphQL input would fail the statement (a 500
 * and, before the logger scrubbed them, the failed query's parameters in the error log). Every
 * input is checked at the edge, before any resolver runs: variables at any depth and string
 * literals in the document.
 */
export function assertNoNulInput(document: DocumentNode | undefined, variables: unknown, opts: { http: boolean }): void {
  const where = nulInVariables(variables, '') ?? (document ? nulInDocument(document) : null);
  if (where === null) return;
  // Refused before execution, like a variable that fails coercion: HTTP 400 (Apollo reads and
  // strips extensions.http), code BAD_USER_INPUT.
  throw new GraphQLError(`Text may not contain the NUL character (U+0000): ${where || 'input'}`, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, ...(where ? { field: where } : {}), ...(opts.http ? { http: { status: 400 } } : {}) },
  });
}

function nulInVariables(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (depth > 20 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulInVariables(value[i], `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key.includes('\u0000')) return path ? `${path}.${key}` : key;
    const found = nulInVariables(v, path ? `${path}.${key}` : key, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/**
 * The verdict on a document's literals, by document: Apollo's document store (and the graphql-ws
 * path's own cache) hand the same parsed document to every request with the same text, so each
 * is walked once, not on every request (the walk was ~2% of the inbox list's server CPU).
 */
const documentVerdicts = new WeakMap<DocumentNode, string | null>();

function nulInDocument(document: DocumentNode): string | null {
  const known = documentVerdicts.get(document);
  if (known !== undefined) return known;
  let found: string | null = null;
  visit(document, {
    [Kind.STRING](node) {
      if (found === null && node.value.includes('\u0000')) found = '';
    },
  });
  documentVerdicts.set(document, found);
  return found;
}

/** For webhooks (stored as given, never refused): the NUL becomes U+FFFD. */
export function replaceNul(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}
