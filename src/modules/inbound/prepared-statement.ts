import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { Database } from '../../db/client.js';

/** Runs one raw statement and answers what `db.execute` answers on that driver. */
export type StatementRunner = (query: SQL) => Promise<unknown>;

const dialect = new PgDialect();
const runners = new WeakMap<Database, StatementRunner>();

/**
 * drizzle prepares only statements given a name (`.prepare('x')`), and raw `db.execute` never:
 * every webhook would make Postgres parse and plan the ingest CTE again, which measured at
 * roughly half the statement's cost. On postgres.js this renders the same SQL and runs it as a
 * prepared statement (cached per connection by its text); PGlite, in-process, keeps drizzle's path.
 */
export function preparedRunner(database: Database): StatementRunner {
  let runner = runners.get(database);
  if (runner) return runner;
  const client = database.sql;
  runner = client
    ? (query) => {
        const { sql: text, params } = dialect.sqlToQuery(query);
        // Counted like drizzle's own statements (tests and the benchmark read it).
        database.stats.statements++;
        return client.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
      }
    : (query) => database.db.execute(query);
  runners.set(database, runner);
  return runner;
}
