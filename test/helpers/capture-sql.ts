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
  const rows = await explainRows<Record<string, string>>(db, statement, 'explain');
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** The same generic plan as EXPLAIN's JSON: its root node (`Node Type`, `Relation Name`, `Plans`, ...). */
export async function explainGenericJson<Node>(db: Db, statement: CapturedStatement): Promise<Node> {
  const [row] = await explainRows<{ 'QUERY PLAN': Array<{ Plan: Node }> }>(db, statement, 'explain (format json)');
  return row!['QUERY PLAN'][0]!.Plan;
}

/**
 * The custom plan of a captured statement (planned for its parameters' values, as every call of a
 * statement Postgres keeps custom, and every statement sent unprepared, `DATABASE_PREPARE=false`),
 * as EXPLAIN's JSON root node.
 */
export async function explainCustomJson<Node>(db: Db, statement: CapturedStatement): Promise<Node> {
  const [row] = await explainRows<{ 'QUERY PLAN': Array<{ Plan: Node }> }>(db, statement, 'explain (format json)', 'force_custom_plan');
  return row!['QUERY PLAN'][0]!.Plan;
}

async function explainRows<R>(db: Db, statement: CapturedStatement, explain: string, mode = 'force_generic_plan'): Promise<R[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql.raw(`set local plan_cache_mode = ${mode}`));
    return withPrepared(tx, statement, async (execute) => rowsOf<R>(await tx.execute(sql.raw(`${explain} ${execute}`))));
  });
}

/**
 * How Postgres plans a captured statement prepared once and run `runs` times with its parameters
 * (plan_cache_mode auto, as the server's prepared statements): after five custom plans it keeps
 * the generic one unless that one looks costlier, and then it plans every execution afresh. Each
 * run is undone (rolled back to a savepoint: a write would find the previous run's rows); a run
 * that fails (a row the call's set-up had is missing here) was planned all the same.
 */
export async function planCacheUse(db: Db, statement: CapturedStatement, runs = 8): Promise<{ generic: number; custom: number }> {
  return db.transaction(async (tx) =>
    withPrepared(tx, statement, async (execute, name) => {
      for (let i = 0; i < runs; i++) {
        await tx.execute(sql.raw('savepoint plan_cache_run'));
        await tx.execute(sql.raw(execute)).catch(() => undefined);
        await tx.execute(sql.raw('rollback to savepoint plan_cache_run'));
      }
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
  await tx.execute(sql.raw(`prepare ${name} as ${statement.sql}`));
  try {
    const args = statement.params.length ? `(${statement.params.map(sqlLiteral).join(', ')})` : '';
    return await fn(`execute ${name}${args}`, name);
  } finally {
    await tx.execute(sql.raw(`deallocate ${name}`));
  }
}

/** A parameter as SQL literal text (arrays in Postgres's `{a,b}` form). */
function sqlLiteral(p: unknown): string {
  if (p === null || p === undefined) return 'null';
  return `'${(Array.isArray(p) ? `{${p.join(',')}}` : String(p)).replaceAll("'", "''")}'`;
}

function isPglite(client: unknown): client is PGlite {
  return typeof (client as PGlite).query === 'function' && typeof (client as PGlite).waitReady !== 'undefined';
}
