// The repositories import src/graphql/pagination.ts (type-graphql decorators need the metadata API).
import 'reflect-metadata';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import { rowsOf, type Db } from '../../src/db/client.js';
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

/**
 * The generic plan of a captured statement (the one Postgres caches for a prepared statement and
 * runs with any parameters: LIMIT $n is estimated blind), as plan text. PREPARE and EXPLAIN
 * EXECUTE under plan_cache_mode = force_generic_plan, in one transaction (one connection).
 */
export async function explainGeneric(db: Db, statement: CapturedStatement): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.execute(sql.raw(`set local plan_cache_mode = force_generic_plan`));
    return withPrepared(tx, statement, async (execute) => {
      const rows = rowsOf<Record<string, string>>(await tx.execute(sql.raw(`explain ${execute}`)));
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
  });
}

/**
 * How Postgres plans a captured statement prepared once and run `runs` times with its parameters
 * (plan_cache_mode auto, as the server's prepared statements): after five custom plans it keeps
 * the generic one unless that one looks costlier, and then it plans every execution afresh.
 */
export async function planCacheUse(db: Db, statement: CapturedStatement, runs = 8): Promise<{ generic: number; custom: number }> {
  return db.transaction(async (tx) =>
    withPrepared(tx, statement, async (execute, name) => {
      for (let i = 0; i < runs; i++) await tx.execute(sql.raw(execute));
      const [row] = rowsOf<{ generic_plans: number | string; custom_plans: number | string }>(
        await tx.execute(sql.raw(`select generic_plans, custom_plans from pg_prepared_statements where name = '${name}'`)),
      );
      return { generic: Number(row!.generic_plans), custom: Number(row!.custom_plans) };
    }),
  );
}

/** PREPAREs the statement, hands `fn` its EXECUTE (parameters as literals), DEALLOCATEs it. */
async function withPrepared<T>(tx: Db, statement: CapturedStatement, fn: (execute: string, name: string) => Promise<T>): Promise<T> {
  const name = 'captured_statement_probe';
  const literal = (v: unknown) => (v === null || v === undefined ? 'null' : typeof v === 'number' ? String(v) : `'${String(v).replaceAll("'", "''")}'`);
  await tx.execute(sql.raw(`prepare ${name} as ${statement.sql}`));
  try {
    const args = statement.params.length ? `(${statement.params.map(literal).join(', ')})` : '';
    return await fn(`execute ${name}${args}`, name);
  } finally {
    await tx.execute(sql.raw(`deallocate ${name}`));
  }
}

function isPglite(client: unknown): client is PGlite {
  return typeof (client as PGlite).query === 'function' && typeof (client as PGlite).waitReady !== 'undefined';
}
