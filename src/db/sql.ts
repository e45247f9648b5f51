import { sql, type SQL } from 'drizzle-orm';
import { Param, Placeholder, SQL as SQLClass, StringChunk, getTableColumns, is, type InferSelectModel } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
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

/**
 * The tenant as a sub-select, `(select $1::uuid)`, for a WHERE that also names a key. Planned for
 * the tenant's own value, a tenant the statistics count a few rows for (new since the last
 * ANALYZE, or grown since) makes every index led by tenant_id look as cheap as the key's, and the
 * planner may take any of them and walk all of the tenant's rows per look-up (the campaign runner
 * did: 85 ms a batch in the bench). As a sub-select the value is unknown when planning: the
 * planner assumes an average tenant's share of the table and the key's index wins. The plan for
 * a known tenant is not worse than that: it is the generic plan every prepared statement gets.
 */
export function tenantParam(tenantId: unknown): SQL {
  return sql`(select ${tenantId}::uuid)`;
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

/**
 * A Postgres array literal, one parameter whatever the list's size (a list of parameters would
 * make each size a new statement). Every element quoted: a value from outside (a SID from a
 * tenant's API root) must not be able to split into two elements.
 */
export function arrayLiteral(values: ReadonlyArray<string | number>): string {
  return `{${values.map((v) => `"${String(v).replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** `column = any($1::text[])`: like anyUuid, for text values. */
export function anyText(column: PgColumn, values: Iterable<string>): SQL {
  return sql`${column} = any(${arrayLiteral([...values])}::text[])`;
}

/**
 * A row of `table` from a hand-written statement's answer (db.execute: column names, driver
 * values), mapped as drizzle maps a builder's rows (timestamps to Dates, jsonb parsed): the same
 * object a `select().from(table)` gives. The answer must carry every column under its own name,
 * or under `prefix` + its name (aliasedColumns: several tables in one row).
 */
export function tableRow<T extends PgTable>(table: T, raw: Record<string, unknown>, prefix = ''): InferSelectModel<T> {
  const row: Record<string, unknown> = {};
  for (const { key, column, rawName } of columnsOf(table, prefix)) {
    const value = raw[rawName];
    if (value === undefined) throw new Error(`${rawName} is missing from the row`);
    row[key] = value === null ? null : column.mapFromDriverValue(value);
  }
  return row as InferSelectModel<T>;
}

interface ColumnEntry {
  /** The row's property. */
  key: string;
  column: PgColumn;
  /** The answer's column name: prefix + the column's name. */
  rawName: string;
}

/**
 * A table's columns with their answer names, listed once per table and prefix: getTableColumns
 * copies the map at every call, and a name concatenated per look-up (prefix + name, for every
 * column of every row of a joined page) is a new string to hash each time (bench profile, issue 16).
 */
const columnEntries = new WeakMap<PgTable, Map<string, readonly ColumnEntry[]>>();

function columnsOf(table: PgTable, prefix: string): readonly ColumnEntry[] {
  let byPrefix = columnEntries.get(table);
  if (!byPrefix) columnEntries.set(table, (byPrefix = new Map()));
  let entries = byPrefix.get(prefix);
  if (!entries) {
    entries = Object.entries(getTableColumns(table) as Record<string, PgColumn>).map(([key, column]) => ({ key, column, rawName: prefix + column.name }));
    byPrefix.set(prefix, entries);
  }
  return entries;
}

/** Every column of `table` by its own name (`"t"."a", "t"."b", ...`), for a RETURNING that tableRow maps. */
export function allColumns(table: PgTable): SQL {
  return sql.join(Object.values(getTableColumns(table) as Record<string, PgColumn>), sql`, `);
}

/**
 * Every column of `table` named `prefix` + its name (`"t"."a" as "p.a", ...`): tables joined in one
 * row, for tableRow(table, raw, prefix). `from`: read from a CTE or alias of that name instead.
 * `onlyWhen`: the columns are null on rows where that condition does not hold (a parent's row sent
 * once beside its children's, not parsed again on each).
 */
export function aliasedColumns(table: PgTable, prefix: string, from?: string, onlyWhen?: SQL): SQL {
  return sql.join(
    Object.values(getTableColumns(table) as Record<string, PgColumn>).map((c) => {
      const value = from === undefined ? sql`${c}` : sql`${sql.identifier(from)}.${sql.identifier(c.name)}`;
      return sql`${onlyWhen === undefined ? value : sql`case when ${onlyWhen} then ${value} end`} as ${sql.identifier(prefix + c.name)}`;
    }),
    sql`, `,
  );
}

/**
 * A hand-written statement for a hot path, built by drizzle once instead of at every call:
 * `build` writes it with a placeholder (`sql.placeholder(name)`) wherever a value of the call
 * goes; the first call renders it (text and constants), and every call answers an SQL of the
 * rendered text's pieces and the values, which drizzle turns back into the very same text and
 * parameters at a fraction of the cost (a statement of many fragments — columns, SET rules,
 * visibility — took ~0.2 ms of CPU to build on every sendMessage). Placeholder values are passed
 * as they are (no column encoder): give them in the driver's form (JSON text for jsonb).
 */
export function builtOnce<K extends string>(build: () => SQL): (values: Record<K, unknown>) => SQL {
  let rendered: { pieces: string[]; slots: Array<{ name: K } | { value: unknown }> } | null = null;
  return (values) => {
    rendered ??= render<K>(build());
    const { pieces, slots } = rendered;
    const chunks: unknown[] = [new StringChunk(pieces[0]!)];
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      chunks.push(new Param('name' in slot ? (values[slot.name] ?? null) : slot.value), new StringChunk(pieces[i + 1]!));
    }
    return new SQLClass(chunks as never);
  };
}

function render<K extends string>(statement: SQL): { pieces: string[]; slots: Array<{ name: K } | { value: unknown }> } {
  const query = new PgDialect().sqlToQuery(statement);
  const pieces = query.sql.split(/\$\d+/);
  const numbers = [...query.sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
  // Parameters appear once each, in order ($1, $2, ...): anything else (a "$1" in a literal) would be misread.
  if (numbers.length !== query.params.length || numbers.some((n, i) => n !== i + 1)) throw new Error('builtOnce: unexpected parameter numbering');
  const slots = query.params.map((p): { name: K } | { value: unknown } => {
    const placeholder = is(p, Param) ? p.value : p;
    return is(placeholder, Placeholder) ? { name: placeholder.name as K } : { value: p };
  });
  return { pieces, slots };
}
