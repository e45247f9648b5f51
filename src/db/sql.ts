import { sql, type SQL } from 'drizzle-orm';
import { getTableColumns } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';

/** Bare column names for an INSERT column list (`(tenant_id, phone_number, ...)`), from the schema. */
export function columnList(...columns: PgColumn[]): SQL {
  return sql.join(
    columns.map((c) => sql.identifier(c.name)),
    sql`, `,
  );
}

/** `excluded.<column>` in ON CONFLICT ... DO UPDATE, from the schema. */
export function excluded(column: PgColumn): SQL {
  return sql`excluded.${sql.identifier(column.name)}`;
}

/**
 * An enum constant inlined as a literal (never client input). Needed where a parameter will not
 * do, e.g. an ON CONFLICT predicate that must match a partial index's predicate word for word.
 */
export function literal(value: string): SQL {
  if (!/^[A-Z_]+$/.test(value)) throw new Error(`not an enum constant: ${value}`);
  return sql.raw(`'${value}'`);
}

/**
 * `column = value, ...` for a hand-written ON CONFLICT ... DO UPDATE SET, from the same
 * `{ property: SQL }` object drizzle's `.set()` takes, so a rule is written once for both.
 */
export function setClauses<T extends PgTable>(table: T, values: Partial<Record<keyof T['_']['columns'], SQL>>): SQL {
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  return sql.join(
    Object.entries(values as Record<string, SQL>).map(([key, value]) => {
      const column = columns[key];
      if (!column) throw new Error(`${key} is not a column of the table`);
      return sql`${sql.identifier(column.name)} = ${value}`;
    }),
    sql`, `,
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `column = any($1::uuid[])`: one statement text whatever the list's length (drizzle's inArray
 * writes `in ($1, $2, ...)`, a new statement, parsed and planned again, for each length). The
 * list goes as one array literal; anything not a uuid is left out (it matches no row anyway).
 */
export function anyUuid(column: PgColumn, ids: Iterable<string>): SQL {
  const list = [...ids].filter((id) => UUID.test(id));
  return sql`${column} = any(${`{${list.join(',')}}`}::uuid[])`;
}
