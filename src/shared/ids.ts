const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids in the API are UUIDs. Ids come from clients: a malformed one simply names no row, and must
 * never reach a `::uuid` cast (Postgres would fail the whole statement).
 */
export function isUuid(value: string | null | undefined): value is string {
  return typeof value === 'string' && UUID.test(value);
}
