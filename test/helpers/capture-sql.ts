// The repositories import src/graphql/pagination.ts (type-graphql decorators need the metadata API).
import 'reflect-metadata';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import type { Db } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';

export interface CapturedStatement {
  sql: string;
  params: unknown[];
}

/**
 * Runs `fn` with a Db over the same connection as `db` that records every statement drizzle
 * sends, so a test can look at (or EXPLAIN) the SQL a repository really produces.
 */
export async function captureSql(db: Db, fn: (capturing: Db) => Promise<unknown>): Promise<CapturedStatement[]> {
  const statements: CapturedStatement[] = [];
  const logger = { logQuery: (query: string, params: unknown[]) => void statements.push({ sql: query, params }) };
  const client = (db as unknown as { $client: unknown }).$client;
  const capturing = (
    isPglite(client) ? drizzlePglite(client, { schema, logger }) : drizzlePostgres(client as postgres.Sql, { schema, logger })
  ) as unknown as Db;
  await fn(capturing);
  return statements;
}

/** EXPLAIN of a captured statement with its parameters, as plan text. */
export async function explain(db: Db, statement: CapturedStatement): Promise<string> {
  const client = (db as unknown as { $client: unknown }).$client;
  const text = `explain ${statement.sql}`;
  const rows = isPglite(client)
    ? (await client.query<Record<string, string>>(text, statement.params)).rows
    : ((await (client as postgres.Sql).unsafe(text, statement.params as postgres.ParameterOrJSON<never>[])) as unknown as Array<Record<string, string>>);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

function isPglite(client: unknown): client is PGlite {
  return typeof (client as PGlite).query === 'function' && typeof (client as PGlite).waitReady !== 'undefined';
}
